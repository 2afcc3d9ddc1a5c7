"""The cuda backend's table: primitive name → function(backend, *arrays, **params) → array(s)."""
from __future__ import annotations

import functools

IMPLS: dict = {}


def impl(*names):
    def register(fn):
        for name in names:
            IMPLS[name] = functools.partial(_named, fn, name) if len(names) > 1 else fn
        return fn
    return register


def _named(fn, name, backend, *args, **params):
    return fn(backend, name, *args, **params)
