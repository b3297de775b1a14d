"""The package's shape holds: imports run one way between layers, no cycles, small modules."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
MAX_LINES = 360  # "about 350": a module past this is doing more than one job

# Each subpackage or foundation module, by layer; a module imports only from its own layer or below.
LAYERS = {
    "config": 0,
    "errors": 0,
    "storage": 0,
    "text": 0,
    "weights": 0,
    "corpus": 1,
    "retrieval": 2,
    "engines": 2,
    "answering": 3,
    "practice": 4,
    "evaluation": 5,
    "study": 5,
    "ui": 6,
    "cli": 7,
    "doctor": 7,
    "commands": 7,
    "study_commands": 7,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The ``assistant.*`` modules ``path`` imports anywhere (functions too), except for type checking."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test).endswith("TYPE_CHECKING")
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assistant"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if (PACKAGE.parent / (child.replace(".", "/") + ".py")).exists() else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("assistant."))
    return found


def graph() -> dict[str, set[str]]:
    edges = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
    # a package's __init__ is imported on the way to any of its modules: not an edge of its own
    return {
        m: {d for d in deps if d != m and not m.startswith(d + ".")} for m, deps in edges.items() if m != "assistant"
    }


def layer(module: str) -> int:
    return LAYERS[module.split(".")[1]]


def test_no_import_cycles():
    graphlib.TopologicalSorter(graph()).prepare()  # raises CycleError naming the cycle


def test_imports_run_from_higher_layers_to_lower_ones():
    upward = sorted(
        f"{module} -> {dep}"
        for module, deps in graph().items()
        for dep in deps
        if dep != "assistant" and layer(dep) > layer(module)
    )
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_modules_stay_small():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_subpackage_says_what_it_holds():
    bare = [module_name(p) for p in PACKAGE.rglob("__init__.py") if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert not bare, f"subpackages without a docstring: {bare}"
