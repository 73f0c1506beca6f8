"""The code's shape: no import cycle among our own modules, no module importing another's private
names. Checked from the source (``ast``), so a refactor that slips either fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASES = (ROOT / "src", ROOT / "cli")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for base in BASES:
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import outside ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(sub) for sub in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    out.append((f"{base}.{alias.name}", None))
                else:
                    out.append((base, alias.name))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        graph[name] = {
            m
            for m, _ in _imports(name, path)
            if m in MODULES and m != name and not m.startswith(name + ".")
        }
    return graph


def test_no_import_cycle_among_our_modules() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = [
        f"{name} imports {name_!r} from {module}"
        for name, path in MODULES.items()
        for module, name_ in _imports(name, path)
        if module in MODULES
        and name_ is not None
        and name_.startswith("_")
        and not name_.startswith("__")
        and module != name
    ]
    assert offenders == []


def test_the_check_sees_the_whole_tree() -> None:
    assert {
        "goalengine.engine.core",
        "goalengine.readmodels.queries",
        "goalengine_cli.main",
    } <= set(MODULES)
    assert "goalengine.store" in _graph()["goalengine.engine.core"]
