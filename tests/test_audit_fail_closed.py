"""Issue 8, "Forged content verifies": every forgery of the Why is caught, on SQLite and
PostgreSQL (changed with the databases' own drivers) and in export files.

Links bind the owner (rule 2: the owner's tag, an HMAC of ``"owner"`` under the owner's salt);
a missing salt is an integrity failure unless the chain records that owner's erasure; old
(rule 1) rows have their owner checked against the events themselves.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from goalengine import GoalEngine
from goalengine.audit.erasure import Erasure, record_erasure
from goalengine.errors import IntegrityFailure
from goalengine.values import Actor
from goalengine_cli.main import cli
from test_audit_tamper import Raw, _edited, case, verify

__all__ = ["case"]  # the fixture, shared with the tamper suite

GOLDEN = Path(__file__).resolve().parent / "golden"


def _client_of(raw: Raw, goal_id: str) -> str:
    rows = raw.q(
        "SELECT owner FROM {p}goalengine_chain WHERE originator_id = ? AND originator_version = 1",
        (goal_id,),
    )
    return str(rows[0]["owner"])


def _cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--store", url, "--as", "auditor:kim", *args])


def test_a_deleted_salt_with_an_edited_event_fails(case: dict[str, Any]) -> None:
    """The Why's first forgery: delete the client's salt, edit its events: exit 1, not OK."""
    raw = Raw(case["url"], case["kind"])
    owner = _client_of(raw, case["first"])
    raw.q("DELETE FROM {p}goalengine_salts WHERE owner = ?", (owner,))
    raw.set_state(case["first"], 3, _edited(raw.event(case["first"], 3)["state"]))
    raw.commit()
    report = verify(case["url"], case["cp"])
    assert not report["ok"]
    assert report["first_problem"]["kind"] == "salt"
    assert "no erasure" in report["first_problem"]["message"]
    assert report["unchecked"]["reasons"]["salt missing"] == report["unchecked"]["events"] > 0
    assert report["unchecked"]["owners_without_salt"] == [owner]
    result = _cli(case["url"], "audit", "verify", "--checkpoint", case["cp"])
    assert result.exit_code == 1, result.output
    assert "Integrity FAILED" in result.stdout
    assert "salt missing" in result.stdout
    js = _cli(case["url"], "audit", "verify", "--json")
    assert js.exit_code == 1
    assert json.loads(js.stdout)["unchecked"]["reasons"]["salt missing"] > 0


def test_a_deleted_salt_alone_fails(case: dict[str, Any]) -> None:
    raw = Raw(case["url"], case["kind"])
    raw.q("DELETE FROM {p}goalengine_salts WHERE owner = ?", (_client_of(raw, case["first"]),))
    raw.commit()
    report = verify(case["url"])
    assert not report["ok"]
    assert [p["kind"] for p in report["problems"]] == ["salt"]


@pytest.mark.parametrize("new_owner", ["", "other"])
def test_a_chain_rows_changed_owner_fails(case: dict[str, Any], new_owner: str) -> None:
    """Change a chain row's owner (to the store's or to another client whose salt exists)."""
    with GoalEngine(case["url"], actor="therapist:lee") as e:
        other = e.add_client("Sam")["id"]
    raw = Raw(case["url"], case["kind"])
    raw.q(
        "UPDATE {p}goalengine_chain SET owner = ? WHERE originator_id = ? "
        "AND originator_version = 3",
        (other if new_owner == "other" else "", case["first"]),
    )
    raw.commit()
    report = verify(case["url"])
    assert not report["ok"]
    first = report["first_problem"]
    assert (first["kind"], first["aggregate_id"], first["version"]) == ("owner", case["first"], 3)


def test_a_changed_owner_with_content_recomputed_fails(case: dict[str, Any]) -> None:
    """Move the row to another client, re-digest the edited content under that client's salt:
    the link (owner tag) no longer follows."""
    with GoalEngine(case["url"], actor="therapist:lee") as e:
        other = e.add_client("Sam")["id"]
    raw = Raw(case["url"], case["kind"])
    from goalengine.audit.chain import content_digest

    salt = bytes.fromhex(
        raw.q("SELECT salt FROM {p}goalengine_salts WHERE owner = ?", (other,))[0]["salt"]
    )
    edited = _edited(raw.event(case["first"], 3)["state"])
    raw.set_state(case["first"], 3, edited)
    raw.q(
        "UPDATE {p}goalengine_chain SET owner = ?, content = ? WHERE originator_id = ? "
        "AND originator_version = 3",
        (other, content_digest(salt, edited), case["first"]),
    )
    raw.commit()
    report = verify(case["url"], case["cp"])
    assert not report["ok"]
    assert report["first_problem"]["kind"] == "owner"
    assert report["checkpoints"] == [{"checkpoint": case["cp"], "ok": False}]


def test_rule_2_binds_the_owner_into_the_link() -> None:
    """Same event, same content digest, another owner's tag: another link (and the inner hash,
    which a skeleton row carries, does not depend on the owner)."""
    from goalengine.audit.chain import inner_link, link_v2, outer_link, owner_tag

    fields = ("0" * 64, "id", 1, "t", "2026-01-01T00:00:00.000000+00:00", "c" * 64)
    a, b = owner_tag(b"a" * 32), owner_tag(b"b" * 32)
    assert link_v2(*fields, a) != link_v2(*fields, b)
    assert link_v2(*fields, a) == outer_link(inner_link(*fields), a)


def test_a_recorded_erasure_is_the_only_reason_for_unchecked_content(case: dict[str, Any]) -> None:
    with GoalEngine(case["url"], actor="therapist:lee") as e:
        raw = Raw(case["url"], case["kind"])
        owner = _client_of(raw, case["first"])
        raw.conn.close()
        erasure = record_erasure(e._store, owner, "client asked", Actor.parse("system:privacy"))
        assert isinstance(erasure, Erasure)
    raw = Raw(case["url"], case["kind"])
    raw.q("DELETE FROM {p}goalengine_salts WHERE owner = ?", (owner,))
    raw.commit()
    report = verify(case["url"], case["cp"])
    assert report["ok"], report["problems"]
    assert report["unchecked"]["reasons"] == {"erased": report["unchecked"]["events"]}
    assert report["unchecked"]["erased_owners"] == [owner]
    result = _cli(case["url"], "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "erased" in result.stdout
    # The erased owner's chain still verifies as a chain: an edited link is caught.
    raw = Raw(case["url"], case["kind"])
    raw.q(
        "UPDATE {p}goalengine_chain SET content = ? WHERE originator_id = ? "
        "AND originator_version = 2",
        ("0" * 64, case["first"]),
    )
    raw.commit()
    report = verify(case["url"])
    assert not report["ok"]
    assert report["first_problem"]["kind"] == "link"


def test_an_undecodable_event_is_a_failure(case: dict[str, Any]) -> None:
    """Bytes that match their digest but do not decode: recorded like that, still a failure
    (the chain row's content is recomputed by whoever wrote them)."""
    from goalengine.audit.chain import content_digest, link_v2, owner_tag, seq_digest

    raw = Raw(case["url"], case["kind"])
    bad = b'{"not": "an event"}'
    raw.set_state(case["first"], 6, bad)
    (row,) = raw.q(
        "SELECT * FROM {p}goalengine_chain WHERE originator_id = ? AND originator_version = 6",
        (case["first"],),
    )
    (prev,) = raw.q(
        "SELECT link FROM {p}goalengine_chain WHERE originator_id = ? AND originator_version = 5",
        (case["first"],),
    )
    (before,) = raw.q("SELECT digest FROM {p}goalengine_chain WHERE seq = ?", (row["seq"] - 1,))
    salt = bytes.fromhex(
        raw.q("SELECT salt FROM {p}goalengine_salts WHERE owner = ?", (row["owner"],))[0]["salt"]
    )
    content = content_digest(salt, bad)
    lk = link_v2(
        prev["link"],
        row["originator_id"],
        6,
        row["topic"],
        row["recorded_at"],
        content,
        owner_tag(salt),
    )
    # Only the last row's digest follows it if it is the head; keep it consistent either way.
    raw.q(
        "UPDATE {p}goalengine_chain SET content = ?, link = ?, digest = ? WHERE seq = ?",
        (content, lk, seq_digest(before["digest"], row["seq"], lk), row["seq"]),
    )
    raw.commit()
    report = verify(case["url"])
    assert not report["ok"]
    assert "undecodable" in {p["kind"] for p in report["problems"]}


# -- rule 1 (old rows): the owner comes from the events -----------------------------------------


def _golden(tmp_path: Path) -> str:
    shutil.copy(GOLDEN / "golden-v1.sqlite", tmp_path / "golden.db")
    return f"sqlite:///{tmp_path / 'golden.db'}"


def test_old_rows_keep_rule_1_and_new_rows_get_rule_2(tmp_path: Path) -> None:
    url = _golden(tmp_path)
    expected = json.loads((GOLDEN / "expected-v1.json").read_text(encoding="utf-8"))
    with GoalEngine(url, actor="therapist:lee") as e:
        client = e.add_client("New")
        assert e.verify(checkpoints=[expected["checkpoint"]])["ok"]
        top = int(expected["checkpoint"].split(":")[0])
        conn = sqlite3.connect(tmp_path / "golden.db")
        (v2_from,) = conn.execute(
            "SELECT value FROM goalengine_meta WHERE key = 'chain_link_v2_from'"
        ).fetchone()
        conn.close()
        assert int(v2_from) == top + 1
        assert e.get_client(client["id"])["name"] == "New"


def test_an_old_rows_changed_owner_is_caught_from_the_events(tmp_path: Path) -> None:
    url = _golden(tmp_path)
    conn = sqlite3.connect(tmp_path / "golden.db")
    seq, oid = conn.execute(
        "SELECT seq, originator_id FROM goalengine_chain WHERE topic LIKE '%Goal.Scaled' "
        "ORDER BY seq LIMIT 1"
    ).fetchone()
    others = [
        o
        for (o,) in conn.execute("SELECT owner FROM goalengine_salts WHERE owner != ''")
        if o
        != conn.execute("SELECT owner FROM goalengine_chain WHERE seq = ?", (seq,)).fetchone()[0]
    ]
    conn.execute("UPDATE goalengine_chain SET owner = ? WHERE seq = ?", (others[0], seq))
    conn.commit()
    conn.close()
    with GoalEngine(url, actor="auditor:kim") as e:
        report = e.verify()
    assert not report["ok"]
    assert (report["first_problem"]["kind"], report["first_problem"]["aggregate_id"]) == (
        "owner",
        oid,
    )


# -- exports --------------------------------------------------------------------------------


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with GoalEngine(url, actor="therapist:lee") as e:
        a = e.add_client("Alex")
        b = e.add_client("Sam")
        for c in (a, b):
            g = e.create_goal(
                c["id"], "Walk", horizon="short", kind="process", domains=["behavioral"]
            )
            for v in (3, 5):
                e.scale(g["id"], v)
        e.export(tmp_path / "all.jsonl")
        cp = e.checkpoint(key=b"k")["checkpoint"]
    return tmp_path / "all.jsonl", cp


def _rewrite(path: Path, lines: list[str]) -> Path:
    bad = path.with_name("bad.jsonl")
    bad.write_text("".join(lines), encoding="utf-8")
    return bad


def _docs_check() -> Any:
    from test_audit_docs import _checker

    return _checker()


def test_an_export_without_a_salt_fails(exported: tuple[Path, str]) -> None:
    path, cp = exported
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    m = json.loads(lines[0])
    owner = json.loads(lines[3])["owner"]
    del m["manifest"]["salts"][owner]
    edited = []
    for text in lines[1:]:
        obj = json.loads(text)
        if obj.get("owner") == owner and '"value":3' in obj["state"]:
            obj["state"] = obj["state"].replace('"value":3', '"value":9')
        edited.append(json.dumps(obj) + "\n")
    bad = _rewrite(path, [json.dumps(m) + "\n", *edited])
    with pytest.raises(IntegrityFailure, match="no salt for its owner") as info:
        GoalEngine.replay(bad, checkpoints=[cp], key=b"k")
    assert info.value.exit_code == 1
    result = CliRunner().invoke(cli, ["audit", "replay", str(bad)])
    assert result.exit_code == 1
    with pytest.raises(ValueError, match="no salt"):
        _docs_check()(str(bad))


def test_an_export_lines_changed_owner_fails(exported: tuple[Path, str]) -> None:
    path, cp = exported
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    owners = sorted({json.loads(t).get("owner", "") for t in lines[1:]} - {""})
    for n, text in enumerate(lines[1:], 2):
        obj = json.loads(text)
        if obj.get("owner") == owners[0] and obj["originator_version"] == 2:
            obj["owner"] = owners[1]
            lines[n - 1] = json.dumps(obj) + "\n"
            break
    bad = _rewrite(path, lines)
    with pytest.raises(IntegrityFailure, match=f"line {n}") as info:
        GoalEngine.replay(bad, checkpoints=[cp], key=b"k")
    assert info.value.exit_code == 1
    with pytest.raises(ValueError, match=f"line {n}"):
        _docs_check()(str(bad))


@pytest.mark.parametrize("column", ["recorded_at", "topic", "content", "link"])
def test_an_edited_chain_row_is_caught(case: dict[str, Any], column: str) -> None:
    """A chain row changed in place (no recomputation): its link or digest no longer follows."""
    raw = Raw(case["url"], case["kind"])
    value = {
        "recorded_at": "2001-01-01T00:00:00.000000+00:00",
        "topic": "goalengine.aggregates.goal:Goal.Achieved",
        "content": "0" * 64,
        "link": "f" * 64,
    }[column]
    raw.q(
        f"UPDATE {{p}}goalengine_chain SET {column} = ? WHERE originator_id = ? "
        "AND originator_version = 4",
        (value, case["first"]),
    )
    raw.commit()
    report = verify(case["url"], read_models=False)
    assert not report["ok"]
    assert report["first_problem"]["version"] in (4, None)
    assert report["first_problem"]["kind"] in {"edited", "link", "sequence", "moved"}


def test_the_documented_check_reads_an_export_of_the_golden_store(tmp_path: Path) -> None:
    """Rule-1 lines (the golden store's) and rule-2 lines (written since) in one file."""
    from test_audit_docs import _checker

    url = _golden(tmp_path)
    with GoalEngine(url, actor="therapist:lee") as e:
        e.add_client("New")
        e.export(tmp_path / "golden.jsonl")
        cp = e.checkpoint()["checkpoint"]
    result = _checker()(str(tmp_path / "golden.jsonl"), cp)
    assert result["manifest_authenticated"]
    summary: Any = GoalEngine.replay(tmp_path / "golden.jsonl", checkpoints=[cp])
    assert summary["manifest_authenticated"]
    lines = (tmp_path / "golden.jsonl").read_text(encoding="utf-8").splitlines()
    rules = {json.loads(t).get("link_rule", 1) for t in lines[1:] if '"state"' in t}
    assert rules == {1, 2}
