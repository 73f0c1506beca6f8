"""Issue 8, "Exports that cannot be fully checked": every edit of an export file — its lines,
manifest, salts and skeleton rows — for full, ``--since`` and ``--client`` exports, is caught by
``audit replay`` and by docs/audit.md's standard-library checker, against a signed store
checkpoint taken after the export (which covers the export's own access record).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from goalengine import GoalEngine
from goalengine.audit.chain import inner_link, owner_tag, seq_digest
from goalengine.errors import IntegrityFailure
from goalengine_cli.main import cli
from test_audit_docs import _checker

KEY = b"kim's key\n"  # bytes as given: the newline is part of the key
Lines = list[dict[str, Any]]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def exports(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from conftest import make_store_url

    tmp = tmp_path_factory.mktemp(f"exports-{request.param}")
    url = make_store_url(str(request.param), tmp)
    with GoalEngine(url, actor="therapist:lee") as e:
        a = e.add_client("Alex")
        b = e.add_client("Sam")
        goals = {}
        for c in (a, b):
            g = e.create_goal(
                c["id"], "Walk", horizon="short", kind="process", domains=["behavioral"]
            )
            goals[c["id"]] = g["id"]
            for v in (3, 5):
                e.scale(g["id"], v)
        since = e.history(goals[a["id"]])[-1]["recorded_at"]
        for c in (a, b):
            e.scale(goals[c["id"]], 9)
            e.achieve(goals[c["id"]])
        cps = {}
        for scope, kwargs in (
            ("full", {}),
            ("since", {"since": since}),
            ("client", {"client": a["id"]}),
        ):
            manifest = e.export(tmp / f"{scope}.jsonl", **kwargs)
            # The auditor's signed checkpoint right after the export covers its access record.
            cps[scope] = e.checkpoint(key=KEY)["checkpoint"]
            assert cps[scope].startswith(f"{manifest['access_checkpoint']}:")
        report = e.verify(checkpoints=list(cps.values()), key=KEY)
        assert report["ok"], report["problems"]
    return {"dir": tmp, "cps": cps, "client": a["id"], "other": b["id"], "url": url}


def _read(path: Path) -> tuple[dict[str, Any], Lines]:
    rows = [json.loads(t) for t in path.read_text(encoding="utf-8").splitlines()]
    return rows[0], rows[1:]


def _write(path: Path, manifest: dict[str, Any], lines: Lines) -> Path:
    bad = path.with_name(f"bad-{path.name}")
    bad.write_text(
        "".join(
            json.dumps(x, ensure_ascii=False, sort_keys=True) + "\n" for x in [manifest, *lines]
        ),
        encoding="utf-8",
    )
    return bad


def _events(lines: Lines) -> list[int]:
    return [i for i, x in enumerate(lines) if "state" in x]


def _edit_value(x: dict[str, Any]) -> None:
    x["state"] = x["state"].replace('"value":3', '"value":9').replace('"value":5', '"value":8')


# -- the tamper cases: (manifest line, lines, salt of the exported client) -> (manifest, lines)


def edit(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    i = next(i for i in _events(ls) if '"value":' in ls[i]["state"])
    _edit_value(ls[i])
    return m, ls


def delete(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    del ls[_events(ls)[1]]
    return m, ls


def delete_last_event_and_fix_manifest(
    m: dict[str, Any], ls: Lines, _: bytes
) -> tuple[dict[str, Any], Lines]:
    """The Why's case: drop the last event (an Achieved) and fix the manifest's counts."""
    last = _events(ls)[-1]
    del ls[last]
    m["manifest"]["counts"]["events"] -= 1
    body = [x for x in ls if not x.get("trailer")]
    m["manifest"]["positions"]["last"] = body[-1]["seq"]
    m["manifest"]["end_checkpoint"] = f"{body[-1]['seq']}:{body[-1]['digest']}"
    return m, ls


def insert(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    i = _events(ls)[1]
    ls.insert(i, dict(ls[i]))
    return m, ls


def swap(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    i, j = _events(ls)[:2]
    ls[i], ls[j] = ls[j], ls[i]
    return m, ls


def truncate(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    return m, ls[:-3]


def cut_trailer(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    return m, [x for x in ls if not x.get("trailer")]


def owner_change(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    owners = sorted(m["manifest"]["salts"])
    i = _events(ls)[2]
    others = [o for o in owners if o != ls[i]["owner"]] or [""]
    ls[i]["owner"] = others[0]
    return m, ls


def manifest_engine_version(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    m["manifest"]["engine_version"] = "9.9.9"
    return m, ls


def manifest_plugin_versions(
    m: dict[str, Any], ls: Lines, _: bytes
) -> tuple[dict[str, Any], Lines]:
    assert m["manifest"]["plugin_versions"]  # the plugins loaded when it was written
    m["manifest"]["plugin_versions"]["cbt"] = "9.9.9"
    return m, ls


def manifest_counts(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    m["manifest"]["counts"]["goals"] += 1
    return m, ls


def manifest_first_position(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    m["manifest"]["positions"]["first"] = (m["manifest"]["positions"]["first"] or 0) + 1
    return m, ls


def manifest_store_format(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    m["manifest"]["store_format"] = "2"
    return m, ls


def manifest_scope(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    m["manifest"]["exported_by"] = "auditor:someone-else"
    return m, ls


def salt_dropped(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    owner = ls[_events(ls)[0]]["owner"]
    del m["manifest"]["salts"][owner]
    for i in _events(ls):
        if ls[i]["owner"] == owner:
            _edit_value(ls[i])
    return m, ls


def salt_replaced(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    owner = ls[_events(ls)[0]]["owner"]
    m["manifest"]["salts"][owner] = "ab" * 32
    return m, ls


def skeleton_for_last_event(
    m: dict[str, Any], ls: Lines, salt: bytes
) -> tuple[dict[str, Any], Lines]:
    """Replace the client's last event by its *genuine* skeleton row: the chain still holds."""
    i = _events(ls)[-1]
    x = ls[i]
    inner = inner_link(
        x["prev_link"],
        x["originator_id"],
        x["originator_version"],
        x["topic"],
        x["recorded_at"],
        x["content"],
    )
    tag = owner_tag(bytes.fromhex(m["manifest"]["salts"][x["owner"]]))
    ls[i] = {
        "seq": x["seq"],
        "skeleton": True,
        "inner": inner,
        "owner_tag": tag,
        "prev_digest": x["prev_digest"],
        "digest": x["digest"],
    }
    return m, ls


def skeleton_edit(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    skeletons = [x for x in ls if x.get("skeleton") and not x.get("trailer")]
    target = skeletons[0] if skeletons else next(x for x in ls if x.get("skeleton"))
    key = "inner" if "inner" in target else "content"
    target[key] = "0" * 64
    return m, ls


def recomputed_everything(m: dict[str, Any], ls: Lines, _: bytes) -> tuple[dict[str, Any], Lines]:
    """Edit a line and recompute its content, every later digest, the manifest and the access
    record's id — all the file can say: only the store's checkpoint tells."""
    import hmac

    from goalengine.audit.chain import link_v2

    i = next(i for i in _events(ls) if '"value":' in ls[i]["state"])
    _edit_value(ls[i])
    x = ls[i]
    salt = bytes.fromhex(m["manifest"]["salts"][x["owner"]])
    x["content"] = hmac.new(salt, x["state"].encode(), hashlib.sha256).hexdigest()
    links: dict[str, str] = {}
    for y in ls[: i + 1]:
        if "link" in y and "originator_id" in y:
            links[y["originator_id"]] = y["link"]
    fields = (x["prev_link"], x["originator_id"], x["originator_version"], x["topic"])
    x["link"] = link_v2(*fields, x["recorded_at"], x["content"], owner_tag(salt))
    prev = x["prev_digest"]
    later_prev_link = {x["originator_id"]: x["link"]}
    for y in ls[i:]:
        if y is not x and "state" in y and y["originator_id"] in later_prev_link:
            y["prev_link"] = later_prev_link[y["originator_id"]]
            s = bytes.fromhex(m["manifest"]["salts"][y["owner"]])
            f = (y["prev_link"], y["originator_id"], y["originator_version"], y["topic"])
            y["link"] = link_v2(*f, y["recorded_at"], y["content"], owner_tag(s))
            later_prev_link[y["originator_id"]] = y["link"]
        y["prev_digest"] = prev
        if "state" in y:
            lk = y["link"]
        elif "inner" in y:
            from goalengine.audit.chain import outer_link

            lk = outer_link(y["inner"], y["owner_tag"])
        elif y.get("access_record"):
            from goalengine.audit.chain import outer_link

            lk = outer_link(
                inner_link(
                    y["prev_link"],
                    y["originator_id"],
                    y["originator_version"],
                    y["topic"],
                    y["recorded_at"],
                    y["content"],
                ),
                y["owner_tag"],
            )
        else:
            lk = y["link"]
        y["digest"] = prev = seq_digest(prev, y["seq"], lk)
    body = [y for y in ls if not y.get("trailer")]
    m["manifest"]["end_checkpoint"] = f"{body[-1]['seq']}:{body[-1]['digest']}"
    # The access record's id is the manifest's digest: recompute it, and its row after it.
    from goalengine.audit.offline import manifest_digest

    record = next(y for y in ls if y.get("access_record"))
    record["originator_id"] = str(uuid.UUID(hex=manifest_digest(m["manifest"])[:32]))
    from goalengine.audit.chain import outer_link

    lk = outer_link(
        inner_link(
            record["prev_link"],
            record["originator_id"],
            record["originator_version"],
            record["topic"],
            record["recorded_at"],
            record["content"],
        ),
        record["owner_tag"],
    )
    record["digest"] = seq_digest(record["prev_digest"], record["seq"], lk)
    return m, ls


CASES: dict[str, Callable[..., tuple[dict[str, Any], Lines]]] = {
    "line edit": edit,
    "line delete": delete,
    "last event deleted + manifest fixed": delete_last_event_and_fix_manifest,
    "line insert": insert,
    "line swap": swap,
    "truncate": truncate,
    "trailer (access record) cut": cut_trailer,
    "line owner change": owner_change,
    "manifest engine_version": manifest_engine_version,
    "manifest plugin_versions": manifest_plugin_versions,
    "manifest counts": manifest_counts,
    "manifest first position": manifest_first_position,
    "manifest store format": manifest_store_format,
    "manifest exported_by": manifest_scope,
    "salt dropped + lines edited": salt_dropped,
    "salt replaced": salt_replaced,
    "skeleton row edited": skeleton_edit,
    "recomputed file (checkpoint only)": recomputed_everything,
}
CLIENT_ONLY = {"genuine skeleton for the client's last event": skeleton_for_last_event}


def _cases() -> list[Any]:
    out = []
    for scope in ("full", "since", "client"):
        cases = {**CASES, **(CLIENT_ONLY if scope == "client" else {})}
        for name in cases:
            out.append(pytest.param(scope, name, id=f"{scope}-{name}"))
    return out


def _all_cases() -> dict[str, Callable[..., tuple[dict[str, Any], Lines]]]:
    return {**CASES, **CLIENT_ONLY}


def test_clean_exports_verify_against_the_store_checkpoint(exports: dict[str, Any]) -> None:
    check = _checker()
    for scope in ("full", "since", "client"):
        path = exports["dir"] / f"{scope}.jsonl"
        cp = exports["cps"][scope]
        summary: Any = GoalEngine.replay(path, checkpoints=[cp], key=KEY)
        assert summary["verified"], scope
        assert summary["manifest_authenticated"], scope
        assert summary["unauthenticated"] == []
        bare: Any = GoalEngine.replay(path)
        assert not bare["manifest_authenticated"]
        assert "engine_version" in bare["unauthenticated"]
        assert "plugin_versions" in bare["unauthenticated"]
        assert check(str(path), cp, KEY)["manifest_authenticated"]
        assert not check(str(path))["manifest_authenticated"]
    m, ls = _read(exports["dir"] / "client.jsonl")
    assert m["manifest"]["counts"]["skeleton"] > 0
    assert set(m["manifest"]["salts"]) == {exports["client"]}
    assert all(x["owner"] == exports["client"] for x in ls if "state" in x)
    # A since export starts at the first position recorded at or after its time, and is
    # contiguous from there to the end.
    _, since = _read(exports["dir"] / "since.jsonl")
    seqs = [x["seq"] for x in since]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


@pytest.mark.parametrize(("scope", "case_name"), _cases())
def test_every_edit_of_an_export_is_caught(
    exports: dict[str, Any], scope: str, case_name: str
) -> None:
    path = exports["dir"] / f"{scope}.jsonl"
    m, ls = _read(path)
    salt = bytes.fromhex(next(iter(m["manifest"]["salts"].values())))
    m, ls = _all_cases()[case_name](m, ls, salt)
    bad = _write(path, m, ls)
    with pytest.raises(IntegrityFailure) as info:
        GoalEngine.replay(bad, checkpoints=[exports["cps"][scope]], key=KEY)
    assert info.value.exit_code == 1
    with pytest.raises(ValueError, match=r"."):  # any defect: the checker's own message
        _checker()(str(bad), exports["cps"][scope], KEY)
    if case_name != "recomputed file (checkpoint only)":
        # Caught by the file alone, too (no checkpoint needed).
        with pytest.raises(IntegrityFailure):
            GoalEngine.replay(bad)
        result = CliRunner().invoke(cli, ["audit", "replay", str(bad)])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output


def test_a_killed_export_leaves_a_named_temp_file_that_the_next_removes(
    exports: dict[str, Any],
) -> None:
    tmp = exports["dir"]
    stale = tmp / ".again.jsonl.export-dead"
    stale.write_text("partial", encoding="utf-8")
    with GoalEngine(exports["url"], actor="auditor:kim") as e:
        manifest = e.export(tmp / "again.jsonl")
        accesses = [a for a in e.audit_log(access=True) if a.get("action") == "export"]
    assert manifest["stale_temp_files_removed"] == [stale.name]
    assert not stale.exists()
    # The access record names the manifest's digest, and its id is made from it.
    from goalengine.audit.offline import manifest_digest

    assert any(
        a.get("detail", {}).get("manifest_sha256")
        == manifest_digest({k: v for k, v in manifest.items() if k != "access_checkpoint"})
        for a in accesses
    )


def test_a_failed_access_record_leaves_no_file(exports: dict[str, Any]) -> None:
    from goalengine.audit import export as exports_module

    tmp = exports["dir"]
    with GoalEngine(exports["url"], actor="auditor:kim") as e:

        def refuse(_id: Any, _m: Any) -> None:
            raise OSError("disk full")

        with pytest.raises(OSError, match="disk full"):
            exports_module.export(
                e._store,
                tmp / "never.jsonl",
                engine_version="x",
                exported_by="auditor:kim",
                record=refuse,
            )
    assert not (tmp / "never.jsonl").exists()
    assert not list(tmp.glob(".never.jsonl.export-*"))
