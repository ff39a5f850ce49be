"""The layer rules of docs/architecture.md, checked on the source tree.

* no import cycle among the project's modules (lazy imports count too);
* ``pipeline`` never imports ``gui`` or a Qt binding;
* no module over 500 lines;
* the pipeline's child process (what the window starts for a run) has no Qt module loaded.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "gui")
TOOLKITS = {"gui", "PySide6", "shiboken6", "pyqtgraph", "superqt", "PyQt5", "PyQt6"}
MAX_LINES = 500


def project_modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def imported_names(module: str, path: Path) -> set[str]:
    """Every module name ``path`` imports, lazy imports included, ``TYPE_CHECKING`` blocks excluded."""
    tree = ast.parse(path.read_text("utf-8"))
    skip = {id(n) for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in node.body for n in ast.walk(sub)}
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def import_graph() -> dict[str, set[str]]:
    mods = project_modules()
    graph = {}
    for mod, path in mods.items():
        targets = set()
        for name in imported_names(mod, path):
            while name and name not in mods:
                name = name.rpartition(".")[0]
            # a package's __init__ re-exporting its own children is not a cycle
            if name and name != mod and not name.startswith(mod + "."):
                targets.add(name)
        graph[mod] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_pipeline_never_imports_gui_or_qt():
    bad = sorted(
        f"{mod} -> {name}"
        for mod, path in project_modules().items() if mod.split(".")[0] == "pipeline"
        for name in imported_names(mod, path) if name.split(".")[0] in TOOLKITS
    )
    assert bad == []


def test_no_module_over_500_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text("utf-8").splitlines()) for p in project_modules().values()}
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_importing_the_window_entry_loads_no_qt():
    """``spawn`` re-imports the parent's main module in the child: ``gui.app`` must be headless to import."""
    code = "import sys, gui, gui.app; print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (TOOLKITS - {"gui"},)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_pipeline_child_process_runs_without_qt(tmp_path):
    """Start a real run from a parent whose main module is the window's entry module."""
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        from gui.app import main  # noqa: F401  (the window's entry, as the console script has it)
        from pipeline.config import get_preset
        from pipeline.io.demo import write_demo_folder
        from pipeline.project.run_and_store import run_and_store_in_process

        if __name__ == "__main__":
            folder = {str(tmp_path / "demo")!r}
            write_demo_folder(folder, n_per_class=4, seed=0)
            seen = []
            run_and_store_in_process(get_preset("hog-kmeans").with_k(k=5), folder, folder,
                                     {str(tmp_path / "store")!r}, on_started=seen.append)
            print(json.dumps(seen))
    """))
    out = subprocess.run([sys.executable, str(driver)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    (info,) = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    assert info["pid"] > 0
    assert info["toolkit_modules"] == []
