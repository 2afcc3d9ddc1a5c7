"""Weights files: safetensors, keyed by weight path like `dense/kernel` (`save_weights` / `load_weights`)."""
from __future__ import annotations

import os

import numpy as np

from ...tensor import Variable
from ...file_io import atomic_file, read_safetensors
from .layer_naming import to_snake_case

_SUFFIXES = (".weights.h5", ".h5", ".safetensors")


# ---------------------------------------------------------------- weights
def weight_paths(model) -> list[tuple[str, Variable]]:
    """(path, variable) for every weight, in `model.weights` order. A path names each layer from the model down
    by its class in snake_case, numbered within its parent as Keras 3 does (`dense`, `dense_1`, then the weight:
    `dense_1/kernel`), so a model rebuilt in the same session, whose layers got new global names, still matches."""
    paths = {}

    def walk(layer, prefix, visited):
        visited.add(id(layer))
        own = {id(v) for _, v, _ in layer._own_weights}
        for short, var, _ in layer._own_weights:
            paths.setdefault(id(var), prefix + short)
        for value in layer._tracked_values():
            if isinstance(value, Variable) and id(value) not in own:
                paths.setdefault(id(value), prefix + value.name.split(":")[0].split("/")[-1])
        used = {}
        for sub in layer._layers:
            base = to_snake_case(type(sub).__name__)
            count = used.get(base, 0)
            used[base] = count + 1
            if id(sub) not in visited:
                walk(sub, prefix + (base if count == 0 else f"{base}_{count}") + "/", visited)
    walk(model, "", set())
    out = [(paths[id(v)], v) for v in model.weights]
    names = [p for p, _ in out]
    dupes = sorted({p for p in names if names.count(p) > 1})
    if dupes:
        raise ValueError(f"{model.name}: several weights have the path(s) {', '.join(dupes)}; give them distinct "
                         f"names in add_weight so they can be told apart in the file")
    return out


def _check_path(filepath) -> str:
    path = os.fspath(filepath)
    if not path.endswith(_SUFFIXES):
        raise ValueError(f"weights file {path!r} must end in .weights.h5 or .safetensors (the contents are "
                         f"safetensors either way)")
    return path


def save_weights(model, filepath, overwrite=True):
    path = _check_path(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path} exists; pass overwrite=True to replace it")
    from safetensors.numpy import save_file
    entries = weight_paths(model)
    if not entries:
        raise ValueError(f"save_weights: {model.name} has no weights yet; build it (call it on data) first")
    tensors = {p: np.asarray(v.numpy(), order="C") for p, v in entries}
    with atomic_file(path) as tmp:    # a crash never leaves a half-written weights file
        save_file(tensors, tmp, metadata={"format": "gpuflow", "model": model.name})


def load_weights(model, filepath, skip_mismatch=False):
    path = _check_path(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no file {path}")
    with open(path, "rb") as f:
        stored = read_safetensors(f.read())
    entries = weight_paths(model)
    if not entries:
        raise ValueError(f"load_weights: {model.name} has no weights yet; build it (call it on data or give the "
                         f"first layer an input shape) before loading")
    ok, problems = match_weights(entries, stored)
    if problems and not skip_mismatch:
        raise ValueError(f"load_weights: {path} does not match {model.name} ({len(problems)} difference(s)):\n  "
                         + "\n  ".join(problems))
    assign_all(ok)


def match_weights(entries, stored):
    """([(variable, array)] whose path and shape match, [problem lines]) for (path, variable) `entries`
    against the arrays `stored` (path → array)."""
    problems, ok = [], []
    for p, var in entries:
        if p not in stored:
            problems.append(f"missing from the file: {p} (shape {tuple(var.shape)})")
        elif tuple(stored[p].shape) != tuple(var.shape):
            problems.append(f"shape mismatch for {p}: the model has {tuple(var.shape)}, the file has "
                            f"{tuple(stored[p].shape)}")
        else:
            ok.append((var, stored[p]))
    known = {p for p, _ in entries}
    problems += [f"not in the model: {k} (shape {tuple(stored[k].shape)})" for k in sorted(set(stored) - known)]
    return ok, problems


def assign_all(pairs):
    for var, value in pairs:
        var.assign(value.astype(var.dtype.np))
