"""gf.saved_model.save: traced signatures, variables and assets into a SavedModel directory (see format.py).

The directory is written under a temporary name beside `export_dir` and renamed into place, so a model server
polling the parent folder never sees half a version.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket

from .._version import __version__
from ..module import Module
from ..tensor import Variable
from . import tensor_file
from .assets import Asset, copy_assets
from .format import ASSETS_DIR, FORMAT, FORMAT_VERSION, MANIFEST, VARIABLES_DIR, VARIABLES_FILE
from .graph_json import GraphWriter
from .signatures import collect

log = logging.getLogger("gpuflow")


def save(obj, export_dir, signatures=None, options=None):
    """tf.saved_model.save: writes `obj`'s signatures (see signatures.py) as traced graphs, its variables and its
    assets to `export_dir`, which gf.saved_model.load reads back without `obj`'s Python classes. A Keras model
    also gets its config, so keras.models.load_model can rebuild it. `options` is accepted for TF
    compatibility."""
    write_saved_model(obj, export_dir, signatures)


def write_saved_model(obj, export_dir, signatures=None, include_optimizer=True):
    export_dir = os.fspath(export_dir)
    exported = collect(obj, signatures)
    keras = _keras_part(obj, include_optimizer)
    writer = GraphWriter()
    for var in _object_variables(obj):  # all of them, used by a graph or not: load_model needs every weight
        writer.variable(var)
    functions, by_graph, entries = [], {}, {}
    for sig in exported:
        graph = sig.concrete.graph
        if id(graph) not in by_graph:  # signatures sharing one trace share its graph
            by_graph[id(graph)] = len(functions)
            functions.append(writer.graph(graph, f"signature {sig.key!r}"))
        entries[sig.key] = {"function": by_graph[id(graph)],
                            "inputs": _tensors(sig.input_names, graph.inputs),
                            "outputs": _tensors(sig.output_names, graph.outputs)}
    keys = _variable_keys(writer.variables, keras.variable_names if keras else {})
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "gpuflow_version": _version(),
                "variables": [{"key": key, "name": var.name, "dtype": var.dtype.name, "shape": _shape(var.shape),
                               "trainable": bool(var.trainable)} for key, var in zip(keys, writer.variables)],
                "functions": functions, "signatures": entries, "assets": []}
    tensors = {key: var.numpy() for key, var in zip(keys, writer.variables)}
    tensors.update(writer.constants)
    if keras and keras.config is not None:
        manifest["keras"] = keras.config
        tensors.update(keras.extra_tensors)
    assets = [a for a in _attributes(obj) if isinstance(a, Asset)]
    _write(export_dir, manifest, tensors, assets)


def _tensors(names, symbols):
    return [{"name": n, "dtype": s.dtype.name, "shape": _shape(s.shape)} for n, s in zip(names, symbols)]


def _shape(shape):
    return [None if d is None else int(d) for d in shape]


def _version() -> str:
    return __version__


def _attributes(obj):
    """The object's attribute values, lists, tuples and dicts opened one level down."""
    values = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    return [leaf for v in values
            for leaf in (v.values() if isinstance(v, dict) else v if isinstance(v, (list, tuple)) else [v])]


def _object_variables(obj):
    """A Keras model's weights, a gf.Module's variables (its sub-modules' included), or the Variables among another
    object's attributes (its graphs add theirs)."""
    weights = getattr(obj, "weights", None)
    if isinstance(obj, Module):
        found = list(obj.variables)
    elif isinstance(weights, list):
        found = list(weights)
    else:
        found = [v for v in _attributes(obj) if isinstance(v, Variable)]
    return [v for v in found if isinstance(v, Variable)]


def _variable_keys(variables, names):
    """A tensor-file key per variable: its Keras weight path when it has one, else its name, made unique."""
    keys, used = [], set()
    for var in variables:
        base = names.get(var._id) or re.sub(r":\d+$", "", var.name) or "variable"
        key, n = f"variables/{base}", 1
        while key in used:
            key, n = f"variables/{base}_{n}", n + 1
        used.add(key)
        keys.append(key)
    return keys


class KerasPart:
    """What a Keras model adds to its SavedModel: its config (None: it has none to give), the Keras path of each
    variable by id, and extra tensors (its optimizer's state)."""

    def __init__(self, config, variable_names, extra_tensors):
        self.config, self.variable_names, self.extra_tensors = config, variable_names, extra_tensors


# What objects of a type from the layers above save besides their graphs and variables, registered by that layer:
# type -> fn(obj, include_optimizer) -> KerasPart. Keras registers its Model (gpuflow/keras/as_saved_model.py), so
# this package never imports Keras.
EXTRA_PARTS: dict = {}


def _keras_part(obj, include_optimizer):
    for cls, part in EXTRA_PARTS.items():
        if isinstance(obj, cls):
            return part(obj, include_optimizer)
    return None


def _write(export_dir, manifest, tensors, assets):
    parent = os.path.dirname(os.path.abspath(export_dir))
    os.makedirs(parent, exist_ok=True)
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise FileExistsError(f"gf.saved_model.save: {export_dir} exists and is not a directory")
    tag = f"{socket.gethostname()}-{os.getpid()}"
    tmp = f"{export_dir.rstrip(os.sep)}.tmp-{tag}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        os.makedirs(os.path.join(tmp, VARIABLES_DIR))
        os.makedirs(os.path.join(tmp, ASSETS_DIR))
        manifest["assets"] = copy_assets(assets, os.path.join(tmp, ASSETS_DIR))
        tensor_file.write(os.path.join(tmp, VARIABLES_DIR, VARIABLES_FILE), tensors)
        _readable(os.path.join(tmp, VARIABLES_DIR, VARIABLES_FILE))
        with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as f:
            json.dump(manifest, f, separators=(",", ":"), allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        if os.path.isdir(export_dir):  # replaced whole: moved aside, the new one renamed in, the old deleted
            old = f"{export_dir.rstrip(os.sep)}.old-{tag}"
            shutil.rmtree(old, ignore_errors=True)
            os.rename(export_dir, old)
            os.rename(tmp, export_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, export_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _readable(path):
    """The safetensors writer makes its file owner-only; a SavedModel is read by servers running as other users
    (a container's), so it gets the usual permissions instead."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
