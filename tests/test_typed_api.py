"""The public API is typed: an embedder's ``mypy --strict`` catches a misspelt result key, a
misspelt keyword and a wrong literal — each with its own error code, not by failing to import.

This runs the real mypy on a small consumer script, against goalengine as installed (the
README's editable install, whose ``.pth`` file static tools follow).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GOOD = '''\
from goalengine import GoalEngine
from goalengine.results import GoalState, RatingRow

with GoalEngine("memory://", actor="therapist:lee") as engine:
    client = engine.add_client("Sam", values=["friendship"])
    goal: GoalState = engine.create_goal(
        client["id"], "Walk after lunch", horizon="short", kind="process", domains=["behavioral"]
    )
    rating: RatingRow = engine.scale(goal["id"], 4, rater="client", note="stayed 10 minutes")
    status: str = engine.get_goal(goal["id"])["status"]
    value: int = rating["value"]
    latest = engine.get_goal(goal["id"])["latest_ratings"]["client"]["value"]
    revised = engine.revise(goal["id"], reason="clearer", title="Walk 20 minutes after lunch")
    changes = [c["field"] for c in revised["changes"]]
    pages = engine.ratings(goal["id"], limit=50, order="oldest")
    then = engine.get_client(client["id"], as_of="2026-01-01")["as_of"]
    feed = [e["seq"] for e in engine.events(after=0, limit=100)]
'''

#: Each bad line, and the error code mypy must give it (and only it).
BAD = {
    'engine.get_goal("x")["staus"]': "typeddict-item",
    'engine.revise("x", reason="r", titel="t")': "call-arg",
    'engine.create_goal("c", "t", horizon="longterm", kind="process", domains=["behavioral"])': (
        "arg-type"
    ),
    'engine.scale("x", 4)["vaule"]': "typeddict-item",
    'engine.ratings("x", order="sideways")': "arg-type",
    'engine.list_clients()[0]["sessions"]': "typeddict-item",
}


def _mypy(script: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(cache),
            str(script),
        ],
        capture_output=True,
        text=True,
        cwd=script.parent,
        timeout=300,
        check=False,
    )


def test_a_correct_consumer_passes_and_each_mistake_has_its_own_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = tmp_path / "good.py"
    good.write_text(GOOD, encoding="utf-8")
    result = _mypy(good, cache)
    assert result.returncode == 0, result.stdout + result.stderr

    bad = tmp_path / "bad.py"
    header = "from goalengine import GoalEngine\n\nengine = GoalEngine('memory://', actor='a:b')\n"
    lines = list(BAD)
    bad.write_text(header + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    result = _mypy(bad, cache)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "import" not in result.stdout.lower(), result.stdout  # found the package, typed
    found: dict[int, set[str]] = {}
    for m in re.finditer(r"bad\.py:(\d+): error: .*\[([a-z-]+)\]", result.stdout):
        found.setdefault(int(m.group(1)), set()).add(m.group(2))
    first = header.count("\n") + 1
    for i, line in enumerate(lines):
        assert found.get(first + i) == {BAD[line]}, (line, result.stdout)
    assert set(found) == {first + i for i in range(len(lines))}, result.stdout
