"""gpuflow's house rules, checked on its import graph (tests/import_graph.py reads it from the source):

* no cycle between gpuflow's subpackages, nor between the modules inside one (CYCLES_INSIDE lists the packages
  whose own modules still form one, each with its reason), counting imports inside functions too;
* imports point down: a module of a layer imports only from its own layer or the layers below (LAYERS, which
  docs/architecture.md draws).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.import_graph import cycles, imports, modules

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gpuflow"

# Bottom to top. Each entry is a module or subpackage directly under gpuflow/ ("" is gpuflow/__init__.py).
LAYERS = [
    ("foundation", {"errors", "dtypes", "nest", "devices", "determinism", "config_experimental", "config_optimizer",
                    "_traces", "_names", "_version", "file_io"}),
    ("runtime", {"runtime"}),
    ("backend", {"backend"}),
    ("tensor", {"tensor"}),
    ("ops", {"ops"}),
    ("autograd", {"autograd"}),
    ("graph", {"graph"}),
    ("libraries", {"data", "summary", "saved_model", "distribute", "config", "module", "train"}),
    ("namespaces", {"math", "nn", "linalg", "random", "image", "debugging", "cuda", "memory", "profiler",
                    "experimental"}),
    ("keras", {"keras"}),
    ("export and serving", {"_export", "onnx", "lite", "serving"}),
    ("entry points", {"", "kernels"}),
]

# Packages whose own modules may still import each other in a cycle, and why. A cycle that leaves its package, or
# one inside any other package, always fails. An entry whose cycle is gone fails too: delete it then.
CYCLES_INSIDE = {
    # The engine's own modules no longer form a cycle (tests/keras/engine/test_engine_imports.py checks it). What
    # is left is Model calling up, late, into what is built on it: training -> loops -> callbacks -> backup /
    # distributed_step -> training; model_file / model_loading <-> as_saved_model; and layers/_kernel_bias.py
    # reading gf.keras.activations through the keras package. Needs more than import moves (an engine hook table).
    "gpuflow.keras": "Model <-> loops/callbacks/as_saved_model above it; layers -> the keras package",
    # A cond/while node runs its sub-graphs through the executor, and the executor runs cond/while nodes through
    # control_flow.py: the graph compiler's rewrite gives control-flow primitives their own run hooks.
    "gpuflow.graph": "control_flow.py <-> executor.py",
    # context.py hands out the default strategy (default.py, a Strategy), and Strategy enters contexts: the
    # public getters (get_strategy, ...) belong above default.py, the thread state below strategy.py.
    "gpuflow.distribute": "context.py <-> strategy.py / default.py",
}


def component(module: str) -> str:
    """The entry directly under gpuflow/ that `module` belongs to ("" for gpuflow itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


LAYER_OF = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


@pytest.fixture(scope="module")
def graph():
    return imports(PACKAGE)


def _report(graph, members, key):
    """The imports inside a cycle, grouped by (key(source), key(target)): the thinnest links first, since one of
    those is usually the import to remove; a thick link is shown by one example and its count."""
    groups: dict = {}
    for imp in graph:
        a, b = key(imp.source), key(imp.target)
        if a != b and a in members and b in members:
            groups.setdefault((a, b), []).append(imp)
    lines = [f"cycle between {sorted(members)}:"]
    for (a, b), found in sorted(groups.items(), key=lambda item: (len(item[1]), item[0])):
        shown = found if len(found) <= 3 else found[:1]
        lines += [f"  {a or 'gpuflow'} -> {b or 'gpuflow'}" + (f" ({len(found)} imports, e.g.)" if len(found) > 3 else "")]
        lines += [f"    {imp}" for imp in shown]
    return "\n".join(lines)


def test_every_top_level_module_and_package_has_a_layer():
    found = {component(m) for m in modules(PACKAGE)}
    missing, gone = sorted(found - set(LAYER_OF)), sorted(set(LAYER_OF) - found)
    assert not missing, f"give these a layer in LAYERS (and docs/architecture.md): {missing}"
    assert not gone, f"LAYERS names what is no longer in gpuflow/: {gone}"
    assert sum(len(names) for _, names in LAYERS) == len(LAYER_OF), "an entry is in two layers"


def test_imports_point_down(graph):
    upward = [imp for imp in graph if LAYER_OF[component(imp.target)] > LAYER_OF[component(imp.source)]]
    assert not upward, "imports from a higher layer (move the code down, or invert the dependency):\n" + "\n".join(
        f"  {imp}   [{LAYERS[LAYER_OF[component(imp.source)]][0]} -> {LAYERS[LAYER_OF[component(imp.target)]][0]}]"
        for imp in upward)


def test_no_cycle_between_subpackages(graph):
    edges = {(component(i.source), component(i.target)) for i in graph if component(i.source) != component(i.target)}
    found = cycles(edges)
    assert not found, "\n".join(_report(graph, set(c), component) for c in found)


def _allowed(cycle) -> str | None:
    return next((pkg for pkg in CYCLES_INSIDE if all(m == pkg or m.startswith(pkg + ".") for m in cycle)), None)


def test_no_cycle_between_modules(graph):
    found = [c for c in cycles((i.source, i.target) for i in graph) if _allowed(c) is None]
    assert not found, "\n".join(_report(graph, set(c), lambda m: m) for c in found)


@pytest.mark.parametrize("package", sorted(CYCLES_INSIDE))
def test_each_allowed_cycle_still_exists(graph, package):
    assert any(_allowed(c) == package for c in cycles((i.source, i.target) for i in graph)), \
        f"{package} has no cycle left: delete its CYCLES_INSIDE entry"


def test_the_architecture_page_draws_these_layers():
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"<!-- layers -->\n```\n(.*?)```\n<!-- /layers -->", text, re.S)
    assert block, "docs/architecture.md lost its layers block (between <!-- layers --> and <!-- /layers -->)"
    drawn = [line.split("  ")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert drawn == [name for name, _ in reversed(LAYERS)], "docs/architecture.md's layers differ from LAYERS"


# ---- the reader itself, on a package made for the purpose ----

def _package(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "pkg"


def test_the_reader_sees_late_relative_and_importlib_imports(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "from . import low\n",
        "low.py": "def f():\n    from . import high\n    return high\n",
        "high.py": "from .low import f\nimport importlib\n\n"
                   "def g():\n    return importlib.import_module('pkg.sub.leaf')\n",
        "sub/__init__.py": "",
        "sub/leaf.py": "from .. import low\nimport pkg.high as h\nimport numpy\n",
    })
    found = {(i.source, i.target, i.line) for i in imports(pkg)}
    assert found == {("pkg", "pkg.low", 1), ("pkg.low", "pkg.high", 2), ("pkg.high", "pkg.low", 1),
                     ("pkg.high", "pkg.sub.leaf", 5), ("pkg.sub.leaf", "pkg.low", 1), ("pkg.sub.leaf", "pkg.high", 2)}
    assert cycles((i.source, i.target) for i in imports(pkg)) == [["pkg.high", "pkg.low", "pkg.sub.leaf"]]
