"""Names made unique TF-style, as exported and summarised graphs name their nodes."""
from __future__ import annotations


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
