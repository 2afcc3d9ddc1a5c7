"""gpuflow's import graph, read from its source with `ast` (nothing is imported): module → the gpuflow
modules it imports, with the line of each import.

Every import counts wherever it is written: at the top of a module, inside a function (a late import that
dodges a cycle at load time is still a dependency, and still a cycle), or as importlib.import_module with a
literal "gpuflow..." name. `from pkg import name` names the submodule pkg.name when there is one, else pkg
itself; importing a submodule is not counted as importing the package's __init__ as well.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    source: str   # the importing module, e.g. "gpuflow.ops.math"
    target: str   # the imported module, e.g. "gpuflow.tensor"
    path: str     # the importing file, relative to the root
    line: int
    text: str     # the statement as written

    def __str__(self):
        return f"{self.path}:{self.line}: {self.text}"


def modules(package_dir: Path) -> dict[str, Path]:
    """Dotted name → file, for every .py file under the package folder."""
    root = package_dir.parent
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known) -> str | None:
    """The longest prefix of `name` that is a module of the package."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def _literal_import_module(node: ast.Call, module: str) -> str | None:
    """The module named by importlib.import_module("...") / __import__("...") with a literal name (a relative one
    with `__name__` as its package, as `module` writes it), else None."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args or not isinstance(node.args[0], ast.Constant) \
            or not isinstance(node.args[0].value, str):
        return None
    name = node.args[0].value
    if name.startswith("."):
        relative_to_self = len(node.args) > 1 and isinstance(node.args[1], ast.Name) and node.args[1].id == "__name__"
        if not relative_to_self:
            return None
        level = len(name) - len(name.lstrip("."))
        parts = module.split(".")[:len(module.split(".")) - (level - 1)]
        name = ".".join(parts + [name.lstrip(".")])
    return name


def imports(package_dir: Path) -> list[Import]:
    """Every import of one of the package's own modules by one of them."""
    package_dir = Path(package_dir)
    top = package_dir.name
    known = modules(package_dir)
    found = []
    for module, path in known.items():
        is_init = path.name == "__init__.py"
        here = module if is_init else module.rpartition(".")[0]
        rel = str(path.relative_to(package_dir.parent))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")[:len(here.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            elif isinstance(node, ast.Call):
                name = _literal_import_module(node, module)
                targets = [name] if name else []
            for name in dict.fromkeys(targets):
                if name.split(".")[0] != top:
                    continue
                target = _resolve(name, known)
                if target is not None and target != module:
                    found.append(Import(module, target, rel, node.lineno, ast.unparse(node)))
    return found


def cycles(edges) -> list[list[str]]:
    """The strongly connected components of more than one node of the graph `edges` ((a, b) pairs), sorted."""
    graph: dict[str, set] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):  # Tarjan's algorithm, iterative so deep graphs cannot hit the recursion limit
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)
