"""Named Keras objects (initializers, regularizers, constraints): lookup by name, config dicts.

Each of those modules keeps a table `name → class` and gets `get`/`serialize`/`deserialize`
from `Family`, so the three accept the same identifiers: None, a snake_case or class name,
a {"class_name", "config"} dict, or an instance/callable (returned as is).
"""
from __future__ import annotations

import re


def snake(name: str) -> str:
    """'GlorotUniform' → 'glorot_uniform', 'L1L2' → 'l1l2'."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


class Family:
    def __init__(self, what: str, classes, aliases=None):
        self.what = what
        self.classes, self.names = {}, {}
        for cls in classes:
            self.register(cls)
        self.names.update(aliases or {})

    def register(self, cls):
        """Add `cls` under its class name and its snake_case name (a class defined after the table, e.g. one that
        uses the table itself)."""
        self.classes[cls.__name__] = cls
        self.names[snake(cls.__name__)] = cls
        return cls

    def lookup(self, name: str):
        cls = self.classes.get(name) or self.names.get(name) or self.names.get(snake(name))
        if cls is None:
            known = ", ".join(sorted(self.names))
            raise ValueError(f"unknown {self.what} {name!r}; known names: {known}")
        return cls

    def serialize(self, obj):
        """`obj` as a {'class_name', 'config'} dict (None stays None), as keras.*.serialize."""
        if obj is None:
            return None
        if not hasattr(obj, "get_config"):
            raise ValueError(f"cannot serialize {self.what} {obj!r}: it has no get_config; use one of gpuflow's "
                             f"{self.what}s or give your class get_config/from_config")
        return {"class_name": type(obj).__name__, "config": obj.get_config()}

    def deserialize(self, config):
        """The object a {'class_name', 'config'} dict describes, as keras.*.deserialize."""
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"cannot deserialize {self.what} from {config!r}: expected "
                             f"{{'class_name': ..., 'config': {{...}}}}")
        return self.lookup(config["class_name"]).from_config(config.get("config") or {})

    def get(self, identifier):
        """The object an identifier names: None, a name ('glorot_uniform', 'GlorotUniform'), a config dict,
            or an instance or callable (returned as is), as keras.*.get.
        """
        if identifier is None:
            return None
        if isinstance(identifier, str):
            return self.lookup(identifier)()
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if callable(identifier):
            return identifier
        raise ValueError(f"cannot interpret {identifier!r} as a {self.what}: give a name, a config dict or a callable")
