"""The import rule of mnistlib, read from its source with `ast` (nothing is imported).

A module imports only modules of a lower layer. From the bottom: threads, source and fetch (they
know no lesson) < data, augment < models, initialization < train < measure, scratch, experiments
< plots < widgets < the side subjects (two_digits, language) and the homework's checks; the
package's own `__init__` sits on top. A subpackage (fetch/, plots/, checks/) is one room of its
layer: its modules may import each other. Every import counts, those inside functions too; the
graph has no circle, and no module imports another's private name.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mnistlib"
LAYERS = (
    ("threads", "source", "fetch"),
    ("data", "augment"),
    ("models", "initialization"),
    ("train",),
    ("measure", "scratch", "experiments"),
    ("plots",),
    ("widgets",),
    ("two_digits", "language", "checks"),
    ("mnistlib",),
)


def module_name(path: Path) -> str:
    """The dotted name of the module at `path`, e.g. 'mnistlib.plots' for plots/__init__.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    """The top-level module or subpackage that holds `module` ('mnistlib' for the package)."""
    return module.split(".")[1] if "." in module else module


def read_imports(
    source: str, module: str, modules: set[str], is_package: bool = False
) -> tuple[set[str], list[str]]:
    """The mnistlib modules that `source` (the code of `module`, an `__init__.py` when
    `is_package`) imports anywhere in its body, and the private names it takes from them, as
    'module._name'."""
    package = module if is_package else module.rpartition(".")[0]
    imported, private, aliases = set(), [], {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    imported.add(alias.name)
                    aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                above = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*above, base] if base else above)
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    imported.add(f"{base}.{alias.name}")
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
                elif base in modules:
                    imported.add(base)
                    if alias.name.startswith("_"):
                        private.append(f"{base}.{alias.name}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = aliases.get(node.value.id)
            if target and node.attr.startswith("_") and not node.attr.startswith("__"):
                private.append(f"{target}.{node.attr}")
    imported.discard(module)
    return imported, [name for name in private if not name.startswith(f"{module}.")]


def package_graph() -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """{module: the mnistlib modules it imports} and {module: the private names it imports}."""
    paths = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    graph, private = {}, {}
    for name, path in paths.items():
        source, is_package = path.read_text(), path.stem == "__init__"
        graph[name], private[name] = read_imports(source, name, set(paths), is_package)
    return graph, private


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports, as [a, b, ..., a], or None when the graph has none."""
    done, path = set(), []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return None
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if circle := visit(target):
                return circle
        path.pop()
        done.add(module)
        return None

    return next((c for c in map(visit, sorted(graph)) if c), None)


def layer_errors(graph: dict[str, set[str]], layers=LAYERS) -> list[str]:
    """Every import that does not go down a layer, and every room that has no layer."""
    level = {name: number for number, names in enumerate(layers) for name in names}
    errors = [
        f"{room(module)} has no layer: add it to LAYERS in tests/test_layout.py"
        for module in sorted(graph)
        if room(module) not in level
    ]
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            here, there = room(module), room(target)
            if here != there and level.get(there, -1) >= level.get(here, -1):
                errors.append(f"{module} imports {target}, which is not in a lower layer")
    return errors


def test_the_import_graph_of_mnistlib_has_no_circle():
    graph, _ = package_graph()
    assert find_cycle(graph) is None


def test_every_import_goes_down_a_layer():
    graph, _ = package_graph()
    assert layer_errors(graph) == []


def test_no_module_imports_a_private_name_of_another():
    _, private = package_graph()
    assert {module: names for module, names in private.items() if names} == {}


def test_the_graph_is_read_from_every_module_including_imports_inside_functions():
    graph, _ = package_graph()
    assert {"mnistlib", "mnistlib.data", "mnistlib.plots.curves"} <= set(graph)
    assert "mnistlib.train" in graph["mnistlib.experiments"]


def test_the_checker_finds_a_circle():
    graph = {
        "mnistlib.a": {"mnistlib.b"},
        "mnistlib.b": {"mnistlib.c"},
        "mnistlib.c": {"mnistlib.a"},
    }
    assert find_cycle(graph) == ["mnistlib.a", "mnistlib.b", "mnistlib.c", "mnistlib.a"]
    assert find_cycle({"mnistlib.a": {"mnistlib.b"}, "mnistlib.b": set()}) is None


def test_the_checker_rejects_an_upward_arrow_and_an_unplaced_module():
    graph = {"mnistlib.data": {"mnistlib.plots.curves"}, "mnistlib.plots.curves": set()}
    assert layer_errors(graph) == [
        "mnistlib.data imports mnistlib.plots.curves, which is not in a lower layer"
    ]
    assert layer_errors({"mnistlib.lesson8": set()}) == [
        "lesson8 has no layer: add it to LAYERS in tests/test_layout.py"
    ]


@pytest.mark.parametrize(
    "source",
    [
        "from mnistlib.train import _batch",
        "def f():\n    from mnistlib import train\n    return train._batch",
        "import mnistlib.train as t\nt._check_optimizer(None, None)",
    ],
)
def test_the_checker_finds_a_private_name_taken_from_another_module(source):
    modules = {"mnistlib", "mnistlib.train", "mnistlib.widgets"}
    imported, private = read_imports(source, "mnistlib.widgets", modules)
    assert imported == {"mnistlib.train"} and len(private) == 1
    assert private[0].startswith("mnistlib.train._")
