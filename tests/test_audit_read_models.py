"""Issue 8, item 3: ``audit verify`` checks the read-model rows against what a rebuild gives (a
separate phase with its own rate), and audit views derive what they show from the events alone.
Read models edited with the databases' own drivers (sqlite3, psycopg) are caught.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from goalengine import GoalEngine
from goalengine_cli.main import cli
from test_audit_tamper import Raw, case, verify

__all__ = ["case"]


def _edit_rating(raw: Raw, goal_id: str) -> None:
    raw.q(
        "UPDATE {p}goalengine_ratings SET value = 10 WHERE goal_id = ? AND version = 2",
        (goal_id,),
    )


def _edit_goal_doc(raw: Raw, goal_id: str) -> None:
    (row,) = raw.q("SELECT doc FROM {p}goalengine_goals WHERE id = ?", (goal_id,))
    doc = json.loads(row["doc"])
    doc["scale"] = 10
    raw.q("UPDATE {p}goalengine_goals SET doc = ? WHERE id = ?", (json.dumps(doc), goal_id))


def _delete_rating(raw: Raw, goal_id: str) -> None:
    raw.q("DELETE FROM {p}goalengine_ratings WHERE goal_id = ? AND version = 3", (goal_id,))


def _insert_rating(raw: Raw, goal_id: str) -> None:
    """A rating that was never given."""
    (row,) = raw.q(
        "SELECT * FROM {p}goalengine_ratings WHERE goal_id = ? ORDER BY version DESC LIMIT 1",
        (goal_id,),
    )
    row["version"] = 99
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    raw.q(f"INSERT INTO {{p}}goalengine_ratings ({columns}) VALUES ({marks})", tuple(row.values()))


@pytest.mark.parametrize(
    "damage",
    [_edit_rating, _edit_goal_doc, _delete_rating, _insert_rating],
    ids=lambda f: f.__name__,
)
def test_an_edited_read_model_is_caught(case: dict[str, Any], damage: Any) -> None:
    raw = Raw(case["url"], case["kind"])
    damage(raw, case["first"])
    raw.commit()
    report = verify(case["url"], case["cp"])
    assert not report["ok"]
    assert report["checkpoints"] == [{"checkpoint": case["cp"], "ok": True}]  # the chain holds
    rm = report["read_models"]
    assert rm["differ"] == 1
    assert not rm["ok"]
    assert [p["kind"] for p in report["problems"]] == ["read_model"]
    assert report["first_problem"]["message"] == (
        "read models: 1 row differs — run `goalengine admin rebuild`"
    )
    result = CliRunner().invoke(cli, ["--store", case["url"], "audit", "verify"])
    assert result.exit_code == 1
    assert "read models: 1 row differs — run `goalengine admin rebuild`" in result.stdout
    # The fix the message names works.
    with GoalEngine(case["url"], actor="therapist:lee") as e:
        e.rebuild_read_models()
        assert e.verify()["ok"]


def test_a_clean_store_reports_both_phases_with_their_rates(case: dict[str, Any]) -> None:
    report = verify(case["url"])
    assert report["ok"]
    rm = report["read_models"]
    assert rm["ok"]
    assert rm["rows"] > 0
    assert rm["rate"] is None or rm["rate"] > 0
    assert report["chain_rate"] is None or report["chain_rate"] > 0
    result = CliRunner().invoke(cli, ["--store", case["url"], "audit", "verify"])
    assert result.exit_code == 0
    assert "match a rebuild" in result.stdout
    assert verify(case["url"], read_models=False)["read_models"] is None
    with GoalEngine(case["url"]) as e:
        default = e.verify()["read_models"]  # the API's default: both phases, like the CLI
        assert default is not None
        assert default["ok"]
    skipped = CliRunner().invoke(
        cli, ["--store", case["url"], "audit", "verify", "--no-read-models"]
    )
    assert skipped.exit_code == 0
    assert "match a rebuild" not in skipped.stdout


def test_audit_show_derives_from_the_events_not_the_read_models(case: dict[str, Any]) -> None:
    with GoalEngine(case["url"], actor="auditor:kim") as e:
        client_id = e.get_goal(case["first"])["client_id"]
        before_goal = e.audit_show(case["first"])
        before_client = e.audit_show(client_id)
        assert before_client == e.get_client(client_id)  # intact read models: the same answer
    raw = Raw(case["url"], case["kind"])
    _edit_goal_doc(raw, case["first"])
    raw.q("DELETE FROM {p}goalengine_goals WHERE id = ?", (case["second"],))
    raw.commit()
    with GoalEngine(case["url"], actor="auditor:kim") as e:
        assert e.audit_show(case["first"]) == before_goal
        assert e.audit_show(client_id) == before_client
        assert e.get_client(client_id) != before_client  # what the everyday read shows


# -- item 3's last sentence: an inconsistent history is an IntegrityFailure pointing to verify --


def test_a_version_gap_on_load_is_an_integrity_failure(case: dict[str, Any]) -> None:
    from goalengine.errors import IntegrityFailure

    raw = Raw(case["url"], case["kind"])
    raw.q(
        f"DELETE FROM {raw.events} WHERE originator_id = ? AND originator_version = ?",
        (raw.oid(case["first"]), 3),
    )
    raw.commit()
    with (
        GoalEngine(case["url"], actor="therapist:lee") as e,
        pytest.raises(IntegrityFailure, match="run `goalengine audit verify`") as info,
    ):
        e.get_goal(case["first"])
    assert info.value.exit_code == 1
    assert "\n" not in info.value.message
    result = CliRunner().invoke(cli, ["--store", case["url"], "goal", "show", case["first"]])
    assert result.exit_code == 1
    assert "audit verify" in result.output
    assert "Traceback" not in result.output


def test_a_deleted_last_event_is_not_a_conflict_forever(case: dict[str, Any]) -> None:
    """After the last event is deleted by hand every scale clashed with the chain's row."""
    from goalengine.errors import ConcurrentWrite, IntegrityFailure

    raw = Raw(case["url"], case["kind"])
    raw.q(
        f"DELETE FROM {raw.events} WHERE originator_id = ? AND originator_version = ?",
        (raw.oid(case["first"]), 6),
    )
    raw.commit()
    with GoalEngine(case["url"], actor="therapist:lee") as e:
        for _ in range(2):
            with pytest.raises(IntegrityFailure, match="audit verify") as info:
                e.scale(case["first"], 4)
            assert not isinstance(info.value, ConcurrentWrite)
