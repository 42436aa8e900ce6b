"""The package's imports form a one-way stack: no cycles, nothing imports the CLI, and
the analysis and report read stored rows without reaching back into training."""

import ast
from pathlib import Path

import pytest

import depthbench

SRC = Path(depthbench.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def imports(path: Path) -> set[str]:
    """The depthbench modules ``path`` imports, at the top or inside functions;
    ``from package import submodule`` counts as importing the submodule."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("depthbench")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("depthbench"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found - {module_name(path)}


GRAPH = {name: imports(path) for name, path in MODULES.items()}


def test_the_graph_is_read_from_the_source():
    assert "depthbench.run" in GRAPH["depthbench.jobrun"]  # the walk finds real edges
    assert "depthbench.report.figures" in GRAPH["depthbench.report"]


def test_nothing_imports_the_cli():
    assert [m for m, deps in GRAPH.items() if "depthbench.cli" in deps] == []


def test_no_import_cycles():
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            pytest.fail(f"import cycle: {' -> '.join(path[path.index(module) :] + [module])}")
        if module in done:
            return
        for dep in sorted(GRAPH.get(module, ())):
            visit(dep, path + [module])
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])


TRAINING = {
    "depthbench.run",
    "depthbench.trainer",
    "depthbench.grid",
    "depthbench.tasks",
    "depthbench.models",
    "depthbench.constructions",
    "depthbench.baselines",
    "depthbench.jobrun",
    "depthbench.jobproc",
}


def reachable(module: str) -> set[str]:
    """Every module ``module`` imports, directly or through others."""
    seen, stack = set(), [module]
    while stack:
        for dep in GRAPH.get(stack.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def within(module: str, packages: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("reader", ["depthbench.analysis", "depthbench.report"])
def test_analysis_and_report_read_rows_only(reader):
    reached = set().union(*(reachable(m) for m in MODULES if within(m, {reader})))
    assert sorted(m for m in reached if within(m, TRAINING)) == []
