"""The Keras engine's modules import one another without a cycle: every import counts, also one made inside a
function (that only hides a cycle until the function runs)."""
import ast
from pathlib import Path

import gpuflow.keras.engine as engine

ENGINE = Path(engine.__file__).parent


def _engine_imports(source: str) -> set[str]:
    """The engine modules a module's `source` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:  # `from .x import y`, `from . import x`
            names = [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
            out.update(n for n in names if (ENGINE / f"{n}.py").exists())
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            full = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            full += [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) else []
            out.update(n.split(".")[3] for n in full if n.startswith("gpuflow.keras.engine.") and
                       (ENGINE / f"{n.split('.')[3]}.py").exists())
    return out


def _cycle(graph):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[module] = "done"
        return None
    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_engine_has_no_import_cycle():
    graph = {p.stem: _engine_imports(p.read_text()) - {p.stem} for p in ENGINE.glob("*.py") if p.stem != "__init__"}
    assert len(graph) > 20 and graph["training"] >= {"base_layer", "saving"}  # the graph is really read
    cycle = _cycle(graph)
    assert cycle is None, "import cycle in gpuflow/keras/engine: " + " -> ".join(cycle)


def test_the_check_sees_a_cycle_hidden_in_a_function():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    late = "def save(model):\n    from .model_file import save_model\n    from gpuflow.keras.engine.saving import x\n"
    assert _engine_imports(late) == {"model_file", "saving"}
