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


#: The floors of the house, lowest first: a module may import its own room and the rooms below it that
#: this table allows (module level or inside a function alike). ``util`` and ``core`` are the ground floor.
FLOORS = {
    "util": set(),
    "core": {"util"},
    "text": {"util", "core"},
    "osm": {"util", "core"},
    "corridors": {"util", "core", "osm", "text"},
    "maps": {"util", "core", "osm", "text", "corridors"},
    "archive": {"util", "core", "osm", "text", "corridors", "maps"},
    "top": {"util", "core", "osm", "text", "corridors", "maps", "archive"},
}
UTIL = {"settings", "errors", "reading", "files", "cachefile", "deadline", "geodesy", "geonames", "naturalearth", "progress"}


def _room(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()):
        return parts[1]
    return "util" if len(parts) == 2 and parts[1] in UTIL else "top"


def _upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} ({_room(a)}) imports {b} ({_room(b)})" for a, targets in graph.items() for b in targets
                  if _room(b) != _room(a) and _room(b) not in FLOORS[_room(a)])


def test_rooms_import_one_way_only():
    """text and osm stand on the ground floor alone; corridors on osm and text; maps on corridors; the archive on
    maps; the pipeline and CLI at the top. No room imports a room above it, not even inside a function."""
    modules = _modules()
    assert set(_room(m) for m in modules) <= set(FLOORS), "a room docs/architecture.md and FLOORS do not know"
    graph = {name: _imports(name, path, modules)[0] for name, path in modules.items()}
    assert _upward_imports(graph) == []


def test_the_floor_check_sees_an_upward_import():
    assert _upward_imports({"geo.text.mentions": {"geo.corridors.build"}, "geo.corridors.build": {"geo.core.names"}}) \
        == ["geo.text.mentions (text) imports geo.corridors.build (corridors)"]


MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 10


def _too_big(source: str, where: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs if p.arg not in ("self", "cls")]
            count = len(params) + bool(a.vararg) + bool(a.kwarg)
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES or count > MAX_PARAMETERS:
                out.append(f"{where}:{node.lineno} {node.name}: {lines} lines, {count} parameters")
    return out


def test_no_function_over_80_lines_or_10_parameters():
    found = [hit for path in sorted(PACKAGE.rglob("*.py"))
             for hit in _too_big(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert found == []


def test_the_size_check_sees_a_long_function():
    body = "def f(a, b, c, d, e, f, g, h, i, j, k):\n" + "    x = 1\n" * 80
    assert _too_big(body, "x.py") == ["x.py:1 f: 81 lines, 11 parameters"]
