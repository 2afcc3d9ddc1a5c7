"""The API reference, generated from the code: one page per public namespace, one entry per public name.

Used two ways:
- as an mkdocs hook (mkdocs.yml `hooks:`): it adds a `reference/<namespace>.md` page per namespace, each
  entry a mkdocstrings `:::` block (signature and docstring, read from the live objects), with the
  devices it runs on and, from the docstring's `Differs from TF:` section, where it differs from TF;
- by tests/docs/test_api_reference.py, which checks every public name has a docstring.

Namespaces are found, not listed: every module reachable from `gpuflow` by attribute whose path is a
TF namespace (a prefix of a name in docs/tf_names.txt: `gf.math` for `tf.math`, `gf.summary` once it
exists) or one of gpuflow's own (OWN). A namespace's public names are its `__all__`, or else its
attributes not starting with `_` that are not modules.
"""
from __future__ import annotations

import __future__
import importlib
import inspect
import re
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's gpuflow, not whichever one is installed

OWN = ("cuda", "memory", "onnx", "keras.datasets.digits")  # gpuflow namespaces with no TF counterpart
# Modules reachable as attributes that are the implementation, not an API (gf.ops' names are re-exported by gf).
INTERNAL = ("ops", "tensor", "devices", "autograd", "backend", "runtime", "kernels", "graph", "keras.engine")
ALL_DEVICES = "cpu, sim, cuda"
_DEVICES_LINE = re.compile(r"^Devices:\s*(.+)$", re.M)


def _tf_namespaces() -> set[str]:
    """'math', 'keras.layers', 'data.experimental', ...: every proper prefix of a name in tf_names.txt."""
    found = set()
    for line in (ROOT / "docs" / "tf_names.txt").read_text().splitlines():
        parts = line.strip().split(".")
        if line.startswith("tf."):
            found.update(".".join(parts[1:k]) for k in range(2, len(parts)))
    return found


def _is_module(obj) -> bool:
    return isinstance(obj, types.ModuleType)


def namespaces() -> list[str]:
    """Public namespaces as dotted paths below gpuflow ('' is gpuflow itself), in reading order."""
    import gpuflow
    wanted = _tf_namespaces() | set(OWN)
    found = [""]
    frontier = [("", gpuflow)]
    while frontier:
        path, module = frontier.pop()
        for name in dir(module):
            child = getattr(module, name, None)
            sub = f"{path}.{name}" if path else name
            if name.startswith("_") or not _is_module(child) or sub in found or sub in INTERNAL:
                continue
            if child.__name__ != f"gpuflow.{sub}":  # a module imported under another name
                continue
            if not Path(getattr(child, "__file__", None) or "/").resolve().is_relative_to(ROOT):
                continue  # another checkout's module, reached through an editable install's import hook
            if sub in wanted:
                found.append(sub)
                frontier.append((sub, child))
    return sorted(found, key=lambda p: (p.count(".") > 0 and p.startswith("keras"), p))


def children(path: str) -> list[str]:
    """The namespaces directly inside `path` ('keras' → 'keras.layers', ...)."""
    depth = path.count(".") + 1 if path else 0
    return [p for p in namespaces() if p.startswith(f"{path}." if path else "") and p and p.count(".") == depth]


def module(path: str) -> types.ModuleType:
    return importlib.import_module("gpuflow" + (f".{path}" if path else ""))


def public_names(path: str) -> list[str]:
    mod = module(path)
    names = getattr(mod, "__all__", None)
    if names is None:  # no __all__: what is not private, not a module and not imported from outside gpuflow
        names = [n for n in dir(mod) if not n.startswith("_") and _ours(getattr(mod, n))]
    return list(names)


def _ours(obj) -> bool:
    if isinstance(obj, (types.ModuleType, __future__._Feature)):
        return False
    home = getattr(obj, "__module__", None) if (inspect.isroutine(obj) or inspect.isclass(obj)) else "gpuflow"
    return (home or "").startswith("gpuflow")


def documented(obj) -> bool:
    """Whether an entry needs a docstring of its own: functions and classes do; constants are their value."""
    return inspect.isroutine(obj) or inspect.isclass(obj)


def own_docstring(obj) -> str:
    """The object's own docstring (a class does not inherit its base's)."""
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def devices(obj) -> str:
    """The docstring's `Devices:` line, else every device: ops and layers are built from primitives,
    and every primitive has an impl on each device (tests/core/test_primitive_registry.py)."""
    found = _DEVICES_LINE.search(own_docstring(obj)) if documented(obj) else None
    return found.group(1).strip() if found else ALL_DEVICES


def methods(obj) -> list[str]:
    """A class's public methods and properties that it defines itself with a docstring (what its entry lists)."""
    if not inspect.isclass(obj):
        return []
    return [n for n, v in vars(obj).items() if not n.startswith("_")
            and (inspect.isfunction(v) or isinstance(v, (classmethod, staticmethod, property)))
            and (getattr(v, "__doc__", None) or getattr(getattr(v, "__func__", None), "__doc__", None))]


def signature(obj) -> str:
    """'(x, y, name=None)'; a class shows its constructor's. '(...)' where Python cannot tell."""
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def title(path: str) -> str:
    return "gf" + (f".{path}" if path else "")


def _canonical(mod, names):
    """name → the first name in `names` bound to the same object (aliases such as truediv = divide)."""
    first: dict[int, str] = {}
    for name in names:
        obj = getattr(mod, name)
        if not documented(obj):  # equal constants (AUTOTUNE and INFINITE_CARDINALITY are both -1) are no aliases
            continue
        if getattr(obj, "__name__", None) in names and getattr(mod, obj.__name__) is obj:
            first.setdefault(id(obj), obj.__name__)
        first.setdefault(id(obj), name)
    return {name: first.get(id(getattr(mod, name)), name) if documented(getattr(mod, name)) else name
            for name in names}


def _order(mod, names):
    def kind(name):
        obj = getattr(mod, name)
        return 0 if inspect.isclass(obj) else 1 if inspect.isroutine(obj) else 2
    return sorted(names, key=lambda n: (kind(n), n.lower()))


def page(path: str) -> str:
    mod = module(path)
    names = _order(mod, public_names(path))
    canonical = _canonical(mod, names)
    summary = (inspect.getdoc(mod) or "").split("\n\n")[0]
    lines = [f"# `{title(path)}`", "", summary, "",
             f"*Generated from the code by `tools/api_reference.py`: every public name of `gpuflow"
             f"{'.' + path if path else ''}`. Devices: {ALL_DEVICES} unless an entry says otherwise.*", ""]
    inner = children(path)
    if inner:
        lines += ["Namespaces inside: " + ", ".join(f"[`{title(c)}`]({title(c)}.md)" for c in inner) + ".", ""]
    for name in names:
        obj = getattr(mod, name)
        full = f"gpuflow.{path}.{name}" if path else f"gpuflow.{name}"
        lines += [f"## `{name}`", ""]
        if canonical[name] != name:
            lines += [f"Alias of [`{canonical[name]}`](#{canonical[name].lower()}).", ""]
        elif documented(obj):
            members = methods(obj)
            lines += ["```python", f"{title(path)}.{name}{signature(obj)}", "```", "",
                      f"**Devices:** {devices(obj)}", "", f"::: {full}", "    options:",
                      "      show_root_heading: false", "      show_root_toc_entry: false", "      heading_level: 3",
                      f"      members: {members if members else 'false'}", ""]
        else:
            lines += [f"A constant: `{title(path)}.{name} = {obj!r}` ({type(obj).__name__}).", ""]
    return "\n".join(lines)


def index() -> str:
    lines = ["# API reference", "",
             "One page per public namespace, generated from the code when the site is built "
             "(`mkdocs build`): signatures and docstrings come from the objects themselves, so a name "
             "added to gpuflow appears here without anyone listing it.", "",
             "| namespace | names | summary |", "|---|---|---|"]
    for path in namespaces():
        summary = (inspect.getdoc(module(path)) or "").split("\n\n")[0].replace("\n", " ").replace("|", "\\|")
        lines.append(f"| [`{title(path)}`]({title(path)}.md) | {len(public_names(path))} | {summary} |")
    return "\n".join(lines) + "\n"


def _where(fn) -> str:
    """The module a function is defined in, as the primitive table shows it."""
    return f"`{fn.__module__.replace('gpuflow.', '')}`"


def primitives_page() -> str:
    """Every primitive, the module (family) that defines it, and whether each backend implements it."""
    from gpuflow import devices
    from gpuflow.ops.dispatch import PRIMITIVES
    cpu, cuda = devices.parse("cpu").backend.impls, devices.parse("sim").backend.impls
    lines = ["# Primitives", "",
             "Generated from `gpuflow.ops.dispatch.PRIMITIVES` and the backends' impl tables when the site is built. "
             "Every module of `gpuflow/ops/` is imported at start-up, so a primitive defined in a new module appears "
             "here with nothing else to edit; `tests/core/test_primitive_registry.py` checks that each has an impl on "
             "every device. See [Adding an op](../architecture.md#adding-an-op).", "",
             "| primitive | defined in | grad rule in | cpu impl | cuda and sim impl |", "|---|---|---|---|---|"]
    yes = {True: "yes", False: "**missing**"}
    for name in sorted(PRIMITIVES, key=lambda n: (PRIMITIVES[n].infer.__module__, n)):
        prim = PRIMITIVES[name]
        lines.append(f"| `{name}` | `{prim.infer.__module__.replace('gpuflow.', '')}` | "
                     f"{_where(prim.grad) if prim.grad else 'none'} | {yes[name in cpu]} | {yes[name in cuda]} |")
    return "\n".join(lines) + "\n"


# ---- mkdocs hook ----------------------------------------------------------------------------------

def on_config(config):
    """Adds the reference pages to the nav, after the hand-written pages."""
    pages = ([{"Overview": "reference/index.md"}] + [{title(p): f"reference/{title(p)}.md"} for p in namespaces()]
             + [{"Primitives": "reference/primitives.md"}])
    config["nav"] = list(config.get("nav") or []) + [{"API reference": pages}]
    return config


def on_files(files, config):
    from mkdocs.structure.files import File
    files.append(File.generated(config, "reference/index.md", content=index()))
    files.append(File.generated(config, "reference/primitives.md", content=primitives_page()))
    for path in namespaces():
        files.append(File.generated(config, f"reference/{title(path)}.md", content=page(path)))
    return files
