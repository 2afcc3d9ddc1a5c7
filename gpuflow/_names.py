"""Names made unique TF-style, as exported and summarised graphs name their nodes."""
from __future__ import annotations

import re
import threading


class UniqueNames:
    """`names(base)` gives `base` the first time, then `base_1`, `base_2`, ...: never a name already taken."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def __call__(self, base: str) -> str:
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


_SCOPE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_./>-]*$")  # TF's rule for a scope name
_scopes = threading.local()


class name_scope:
    """`with gf.name_scope("block"):` as tf.name_scope: `as` gives the scope's full name ("outer/block/"), and
    nested scopes join. gpuflow does not rename ops by it (ops are not looked up by name); code that builds names
    from the scope string, or only needs the context, runs unchanged."""

    def __init__(self, name):
        if not isinstance(name, str) or (name and not _SCOPE_NAME.match(name)):
            raise ValueError(f"name_scope: {name!r} is not a valid scope name (letters, digits, '.', '_', '-', '/'; "
                             f"not starting with '_', '-' or '/')")
        self.name = name
        self._saved = None

    def __enter__(self) -> str:
        stack = _scopes.__dict__.setdefault("stack", [])
        self._saved = list(stack)
        if self.name.endswith("/"):  # a full name given back: taken as it is, as TF does
            stack[:] = [self.name.rstrip("/")]
        elif self.name:
            stack.append(self.name)
        else:  # "" resets to the top
            stack.clear()
        return "".join(f"{s}/" for s in stack)

    def __exit__(self, *exc):
        _scopes.stack[:] = self._saved
