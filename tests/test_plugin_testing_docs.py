"""docs/plugins/testing.md lists the engine methods a plugin's tests call with their exact
signatures: parameter names, the keyword-only marker, defaults and the result type."""

from __future__ import annotations

import enum
import inspect
import json
import re
from pathlib import Path

from goalengine import GoalEngine

PAGE = Path(__file__).resolve().parents[1] / "docs" / "plugins" / "testing.md"
SECTION = "## The engine methods your tests call"

#: The methods the page must list (each hook is exercised through at least one of them).
METHODS = {
    "create_goal",
    "chain",
    "revise",
    "pause",
    "resume",
    "achieve",
    "abandon",
    "void",
    "prioritized_goals",
    "prioritize_client",
    "suggest_steps",
    "client_review",
    "list_plugins",
    "list_modalities",
    "show_modality",
    "fingerprint",
}


def documented_form(name: str) -> str:
    """``name(a, *, b=None) -> Result`` as the page writes it (enum defaults as their words)."""
    sig = inspect.signature(getattr(GoalEngine, name))
    parts: list[str] = []
    for p in list(sig.parameters.values())[1:]:
        if p.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        if p.default is inspect.Parameter.empty:
            parts.append(p.name)
            continue
        default = p.default.value if isinstance(p.default, enum.Enum) else p.default
        text = json.dumps(default) if isinstance(default, str) else repr(default)
        parts.append(f"{p.name}={text}")
    return f"{name}({', '.join(parts)}) -> {sig.return_annotation}"


def test_every_listed_signature_is_exact() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert text.count(f"\n{SECTION}\n") == 1
    section = text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section has one ```text block of signatures"
    lines = [line for line in blocks[0].splitlines() if line.strip()]
    listed = {line.split("(", 1)[0] for line in lines}
    assert listed == METHODS, f"missing {METHODS - listed}, extra {listed - METHODS}"
    for line in lines:
        name = line.split("(", 1)[0]
        assert line == documented_form(name), f"testing.md: {line!r}"
