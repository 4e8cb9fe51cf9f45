"""The import graph of src/: no cycles, and the Lambda's package stands alone.

A cycle is what made ``mysfits.cli`` and its subcommands depend on each other; imports inside functions count too,
since a lazy import only delays the same knot. ``sam build`` ships ``mysfits_api`` without ``mysfits``, so an
import of ``mysfits`` from there would fail only on AWS.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the tree under root -> the modules of that tree it imports (anywhere in its body)."""
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from a import b` imports the module a.b when there is one, else a name defined in a.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None; depth-first, white/grey/black."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_src_has_no_import_cycle():
    cycle = find_cycle(import_graph(SRC))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_lambda_package_imports_nothing_of_the_rest():
    graph = import_graph(SRC)
    reaching_out = {
        (name, target) for name, targets in graph.items() if name.startswith("mysfits_api") for target in targets
    }
    assert {(name, target) for name, target in reaching_out if not target.startswith("mysfits_api")} == set()
    assert ("mysfits_api.handler", "mysfits_api.questionnaire") in reaching_out  # the graph does see its imports


def test_the_checker_finds_a_cycle_through_a_lazy_import(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text("class Error(Exception): ...\ndef commands():\n    from pkg import sub\n")
    (package / "sub.py").write_text("from pkg.cli import Error\n")
    (package / "leaf.py").write_text("from . import sub\n")
    graph = import_graph(tmp_path)
    assert graph["pkg.leaf"] == {"pkg.sub"}
    assert find_cycle(graph) in (["pkg.cli", "pkg.sub", "pkg.cli"], ["pkg.sub", "pkg.cli", "pkg.sub"])
    (package / "sub.py").write_text("")
    assert find_cycle(import_graph(tmp_path)) is None


def test_the_model_layer_imports_nothing_from_above_it():
    """The house reads as the data flow: the dataset and the model know nothing of the stores, the choices commands
    or the loop that feeds them (issue 28: `mysfits retrain`, then the versions list, reached back up)."""
    graph = import_graph(SRC)
    above = ("mysfits.local", "mysfits.choices", "mysfits.loop", "mysfits.aws")
    upward = sorted(
        (name, target)
        for name, targets in graph.items()
        if name.startswith("mysfits.model")
        for target in targets
        if target.startswith(above)
    )
    assert upward == []
    assert ("mysfits.loop.retrain", "mysfits.model.training") in {(n, t) for n, ts in graph.items() for t in ts}
