"""docs/plugins/hooks.md documents every field of the views hooks receive, with its exact type.

"The views hooks receive" has a ``### `GoalView` `` and a ``### `ClientView` `` part; each lists
the fields as ``- `name: type` — …`` in the order attrs declares them, nothing missing or extra.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from goalengine.modalities.types import ClientView, GoalView

PAGE = Path(__file__).resolve().parents[1] / "docs" / "plugins" / "hooks.md"
SECTION = "## The views hooks receive"


def part(view: type) -> str:
    """The text under ``### `View` `` in the views section of hooks.md."""
    text = PAGE.read_text(encoding="utf-8")
    assert text.count(f"\n{SECTION}\n") == 1, f"hooks.md has no single '{SECTION}' section"
    section = text.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    heading = re.search(rf"^### `{view.__name__}`$", section, flags=re.M)
    assert heading, f"'{SECTION}' has no ### `{view.__name__}` part"
    return section[heading.end() :].split("\n### ", 1)[0]


@pytest.mark.parametrize("view", [GoalView, ClientView], ids=lambda v: v.__name__)
def test_every_field_of_the_view_is_documented_with_its_type(view: type) -> None:
    text = part(view)
    fields = attrs.fields(view)
    for field in fields:
        assert f"- `{field.name}: {field.type}` — " in text, (
            f"hooks.md does not document {view.__name__}.{field.name}: {field.type}"
        )
    documented = re.findall(r"^- `(\w+): ", text, flags=re.M)
    assert documented == [f.name for f in fields], "fields missing, extra or out of order"
