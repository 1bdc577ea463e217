"""The shape of the house, checked: the import graph of `tui_chat/` read with `ast`, and module sizes.

Which imports count for what:

- *module level* (run when the module is imported, wherever they sit at the top: under `try`,
  `if`, ...): every rule.
- *deferred* (inside a function or method, run on first use): the layers, the folder cycles and
  the UI-only libraries. A lazy import keeps start-up light but is still a dependency; it does
  not count for module cycles, because it cannot deadlock an import and is the usual way to
  break one.
- *type-checking* (under `if TYPE_CHECKING:`, never run): the layers and the UI-only libraries
  only. Knowing a higher layer's types is still knowing the higher layer; but annotations create
  no import cycles, so neither module nor folder cycles count them.

An import names its module (`from .providers import registry` is an edge to
`tui_chat.providers.registry`); the package `__init__` Python runs first is not added as an edge.
The layer table, lowest first, is `LAYERS`: a module belongs to the layer of the longest prefix
that names it, and a new folder is one more entry there. These tests are meant to be red while
the tree breaks a rule: nothing here is skipped or expected to fail.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

PACKAGE = "tui_chat"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

LAYERS: Sequence[tuple[str, Sequence[str]]] = (
    ("ground", ("", "chunks", "errors", "safe_text", "resources", "checking", "audio")),
    ("providers", ("providers", "models", "media")),  # media/ is still to come
    ("conversation", ("conversation", "store")),  # store/ is still to come
    ("tools and packs", ("tools", "packs")),
    ("realtime", ("realtime",)),
    ("voice", ("voice",)),
    ("config", ("config",)),
    ("session", ("session",)),
    ("ui", ("ui", "gateway")),  # gateway/ is still to come
    ("command line", ("cli", "__main__")),
)
"""Layers, lowest first, each with the names (relative to the package; "" is the package itself)
of the modules and folders in it. Nothing imports a module of a higher layer."""

UI_ONLY = ("textual", "rich")
"""Libraries only `tui_chat/ui/` may import: the core runs without a terminal, and Rich is
Textual's renderer, which the core never needs (untrusted text is cleaned, not rendered)."""

UI_FOLDER = "ui"

MAX_LINES = 600
LONG_ALLOWED: Mapping[str, str] = {}
"""Modules (paths relative to the package) allowed over `MAX_LINES`, each with the reason."""


class Kind(Enum):
    """When an import runs: see the module docstring for which rules count which kind."""

    MODULE = "module level"
    DEFERRED = "deferred"
    TYPE_CHECKING = "type-checking"


@dataclass(frozen=True)
class Import:
    """One import statement's edge: `source` imports `target` at `path`:`line`."""

    source: str
    target: str
    path: str
    line: int
    kind: Kind

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} imports {self.target} ({self.kind.value})"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name (a package by its `__init__`)."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, kind: Kind) -> Iterable[tuple[ast.Import | ast.ImportFrom, Kind]]:
    """Every import under `node`, with the kind the place it sits in gives it."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, kind
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _walk(child, Kind.DEFERRED if kind is Kind.MODULE else kind)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.body:
                yield from _walk(ast.Module(body=[statement], type_ignores=[]), Kind.TYPE_CHECKING)
            for statement in child.orelse:
                yield from _walk(ast.Module(body=[statement], type_ignores=[]), kind)
        else:
            yield from _walk(child, kind)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: Mapping[str, Path]) -> list[str]:
    """The absolute module names an import statement names: `from x import y` names `x.y` when
    that is a module, else `x`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    origin = node.module or ""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join([*base, node.module] if node.module else base)
    named = (f"{origin}.{alias.name}" for alias in node.names)
    return list(dict.fromkeys(name if name in modules else origin for name in named))


def read_imports(root: Path, package: str) -> tuple[dict[str, Path], list[Import]]:
    """The package's modules, and every import each makes (of its own modules or of any library)."""
    modules = module_names(root, package)
    imports: list[Import] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        shown = f"{package}/{path.relative_to(root).as_posix()}"
        for node, kind in _walk(tree, Kind.MODULE):
            for target in _targets(node, name, path.name == "__init__.py", modules):
                if target != name:
                    imports.append(Import(name, target, shown, node.lineno, kind))
    return modules, imports


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _relative(name: str, package: str) -> str:
    return name[len(package) + 1 :] if name != package else ""


def folder_of(name: str, package: str) -> str:
    """The node a module is in for folder cycles: its top folder, or the module itself."""
    return _relative(name, package).split(".")[0]


def layer_of(name: str, package: str, layers: Sequence[tuple[str, Sequence[str]]]) -> int | None:
    """The index in `layers` of the longest prefix naming module `name`, or None when none does."""
    relative = _relative(name, package)
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(layers):
        for prefix in prefixes:
            named = relative == prefix or (prefix and relative.startswith(prefix + "."))
            if named and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def find_cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan), each sorted, sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def describe_cycles(imports: Sequence[Import], node_of: dict[str, str], kinds: set[Kind]) -> list[str]:
    """Each cycle of the graph `node_of` makes of `imports` of `kinds`, with the imports that close it."""
    edges = [(node_of[i.source], node_of[i.target], i) for i in imports if i.kind in kinds and i.target in node_of]
    edges = [(s, t, i) for s, t, i in edges if s != t]
    report = []
    for group in find_cycles((s, t) for s, t, _ in edges):
        members = set(group)
        inner = [f"    {i}" for s, t, i in edges if s in members and t in members]
        report.append(f"cycle between {', '.join(group)}:\n" + "\n".join(inner))
    return report


def upward_imports(
    imports: Sequence[Import], package: str, layers: Sequence[tuple[str, Sequence[str]]]
) -> list[str]:
    """Every import of a module in a higher layer than the importer's, said with both layers."""
    found = []
    for i in imports:
        if not _inside(i.target, package):
            continue
        low, high = layer_of(i.source, package, layers), layer_of(i.target, package, layers)
        if low is not None and high is not None and high > low:
            found.append(f"{i}: layer {layers[low][0]!r} imports layer {layers[high][0]!r}")
    return found


def ui_only_imports(imports: Sequence[Import], package: str) -> list[str]:
    """Every import of a UI-only library (`UI_ONLY`) by a module outside the UI folder."""
    return [str(i) for i in imports if i.target.split(".")[0] in UI_ONLY and folder_of(i.source, package) != UI_FOLDER]


def modules_without_layer(modules: Iterable[str], package: str, layers: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    return [name for name in modules if layer_of(name, package, layers) is None]


def too_long_modules(root: Path, package: str, allowed: Mapping[str, str], limit: int = MAX_LINES) -> list[str]:
    """Every module over `limit` lines that `allowed` does not name, with its length."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit and relative not in allowed:
            found.append(f"{package}/{relative}: {lines} lines")
    return found


def _graph_nodes(modules: Iterable[str], package: str, *, by_folder: bool) -> dict[str, str]:
    return {name: (folder_of(name, package) or package) if by_folder else name for name in modules}


ANALYSED = read_imports(ROOT, PACKAGE)


def _fail_with(problems: Sequence[str], what: str) -> None:
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(problems)


def test_no_import_cycle_between_modules() -> None:
    modules, imports = ANALYSED
    cycles = describe_cycles(imports, _graph_nodes(modules, PACKAGE, by_folder=False), {Kind.MODULE})
    _fail_with(cycles, "import cycles between modules (module-level imports)")


def test_no_import_cycle_between_folders() -> None:
    modules, imports = ANALYSED
    cycles = describe_cycles(imports, _graph_nodes(modules, PACKAGE, by_folder=True), {Kind.MODULE, Kind.DEFERRED})
    _fail_with(cycles, "import cycles between folders (module-level and deferred imports)")


def test_every_module_has_a_layer() -> None:
    modules, _ = ANALYSED
    missing = modules_without_layer(modules, PACKAGE, LAYERS)
    _fail_with(missing, "modules in no layer (add them to LAYERS in tests/test_architecture.py)")


def test_nothing_imports_a_higher_layer() -> None:
    _, imports = ANALYSED
    _fail_with(upward_imports(imports, PACKAGE, LAYERS), "imports of a higher layer")


def test_only_the_ui_imports_textual_or_rich() -> None:
    _, imports = ANALYSED
    _fail_with(ui_only_imports(imports, PACKAGE), f"imports of {' or '.join(UI_ONLY)} outside {PACKAGE}/{UI_FOLDER}/")


def test_no_module_is_over_the_line_limit() -> None:
    too_long = too_long_modules(ROOT, PACKAGE, LONG_ALLOWED)
    _fail_with(too_long, f"modules over {MAX_LINES} lines (split them, or list them in LONG_ALLOWED with a reason)")


def test_the_long_module_allow_list_names_long_modules() -> None:
    """An allowance outlives its reason when the module shrinks or goes: it must then be removed."""
    stale = [
        name
        for name, _ in LONG_ALLOWED.items()
        if not (ROOT / name).exists() or len((ROOT / name).read_text(encoding="utf-8").splitlines()) <= MAX_LINES
    ]
    _fail_with(stale, "LONG_ALLOWED entries for modules that are gone or short enough")


# --- the checks themselves can fail -------------------------------------------------------------


SYNTHETIC_LAYERS: Sequence[tuple[str, Sequence[str]]] = (("low", ("", "low", "a", "b")), ("high", ("ui",)))


def _synthetic_tree(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "ui").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "import pkg.a\n",
        "low.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from .ui.view import View\n"
            "def later():\n    from .ui import view\n    import rich.text\n"
        ),
        "ui/__init__.py": "",
        "ui/view.py": "import textual\nfrom ..low import later\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_the_checks_find_a_cycle_an_upward_import_and_textual_outside_the_ui(tmp_path: Path) -> None:
    modules, imports = read_imports(_synthetic_tree(tmp_path), "pkg")
    cycles = describe_cycles(imports, _graph_nodes(modules, "pkg", by_folder=False), {Kind.MODULE})
    assert len(cycles) == 1 and cycles[0].startswith("cycle between pkg.a, pkg.b:")
    assert "pkg/a.py:1: pkg.a imports pkg.b (module level)" in cycles[0]
    assert "pkg/b.py:1: pkg.b imports pkg.a (module level)" in cycles[0]

    assert upward_imports(imports, "pkg", SYNTHETIC_LAYERS) == [
        "pkg/low.py:3: pkg.low imports pkg.ui.view (type-checking): layer 'low' imports layer 'high'",
        "pkg/low.py:5: pkg.low imports pkg.ui.view (deferred): layer 'low' imports layer 'high'",
    ]
    # low -> ui (deferred) and ui -> low (module level) close a loop between the folders.
    folder_cycles = describe_cycles(
        imports, _graph_nodes(modules, "pkg", by_folder=True), {Kind.MODULE, Kind.DEFERRED}
    )
    assert [c.splitlines()[0] for c in folder_cycles] == ["cycle between a, b:", "cycle between low, ui:"]
    assert ui_only_imports(imports, "pkg") == ["pkg/low.py:6: pkg.low imports rich.text (deferred)"]


def test_the_checks_find_a_module_in_no_layer_and_a_long_module(tmp_path: Path) -> None:
    root = _synthetic_tree(tmp_path)
    (root / "stray.py").write_text("x = 1\n" * 7)
    modules, _ = read_imports(root, "pkg")
    assert modules_without_layer(modules, "pkg", SYNTHETIC_LAYERS) == ["pkg.stray"]
    assert too_long_modules(root, "pkg", {}, limit=6) == ["pkg/stray.py: 7 lines"]
    assert too_long_modules(root, "pkg", {"stray.py": "generated"}, limit=6) == []


def test_type_checking_imports_make_no_cycle(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from .b import B\n")
    (root / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import A\n")
    modules, imports = read_imports(root, "pkg")
    assert [str(i) for i in imports if i.source == "pkg.b"] == [
        "pkg/b.py:1: pkg.b imports typing (module level)",
        "pkg/b.py:3: pkg.b imports pkg.a (type-checking)",
    ]
    for by_folder in (False, True):
        nodes = _graph_nodes(modules, "pkg", by_folder=by_folder)
        assert describe_cycles(imports, nodes, {Kind.MODULE, Kind.DEFERRED}) == []


def test_a_module_belongs_to_its_longest_named_prefix() -> None:
    layers = (("low", ("", "audio")), ("mid", ("audio.voice",)))
    assert layer_of("p", "p", layers) == 0
    assert layer_of("p.audio.vad", "p", layers) == 0
    assert layer_of("p.audio.voice.session", "p", layers) == 1
    assert layer_of("p.other", "p", layers) is None
