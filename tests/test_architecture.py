"""The package's shape: rooms without import cycles, no reach-ins, a documented public API and architecture."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import geo

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "geo"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], list[str]]:
    """Modules of geo that ``name`` imports (anywhere in the file), and the private names it takes from them."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    edges, private = set(), []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + [node.module] if node.module else base) if node.level else (node.module or "")
            if not target.startswith("geo"):
                continue
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    edges.add(f"{target}.{alias.name}")
                elif target in modules:
                    edges.add(target)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append(f"{name} imports {target}.{alias.name}")
        elif isinstance(node, ast.Import):
            edges.update(a.name for a in node.names if a.name in modules)
    edges.discard(name)
    # a child importing its own package's __init__ is not a cycle source
    return {e for e in edges if not (modules[e].name == "__init__.py" and name.startswith(e + "."))}, private


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_and_no_private_reach_ins():
    modules = _modules()
    graph, private = {}, []
    for name, path in modules.items():
        graph[name], reach_ins = _imports(name, path, modules)
        private += reach_ins
    assert _cycles(graph) == [], "import cycles between modules of geo/"
    assert private == [], "modules importing another module's private names"


def test_the_checker_sees_a_cycle():
    """The cycle finder is not vacuous: a planted two-module loop is found."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_every_public_name_resolves_and_the_readme_shows_the_entry_points():
    for name in geo.__all__:
        assert getattr(geo, name) is not None, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    api = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    used = set(re.findall(r"\bgeo\.([A-Za-z_]+)", api))
    assert used - set(geo.__all__) == set(), "README's API section names functions geo does not export"
    for entry in ("build", "geoparse_jsonl", "snapshot_layers", "BuildReport", "LayerResult", "CorridorMapError"):
        assert entry in geo.__all__ and f"geo.{entry}" in api, entry


def test_architecture_doc_names_every_module():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [name for name, path in _modules().items()
               if path.name != "__init__.py" and f"{path.relative_to(PACKAGE).as_posix()}" not in doc]
    assert missing == [], "docs/architecture.md does not describe these modules"
