"""gf.saved_model.load: a SavedModel directory checked field by field, then its graphs made runnable.

`read` does every check before anything is allocated: the manifest's format and version, each variable,
graph, node and signature (graph_json.py), the asset names (assets.py) and the tensor file's header against
the manifest (tensor_file.py). Each failure is a gf.errors exception naming the file and the field. Only
then does `build` read the tensors, make the variables and constants on the loading device and attach them.
Nothing from the files is ever executed: ops are looked up by name among gpuflow's own.
"""
from __future__ import annotations

import json
import os

from .. import devices as _devices
from ..errors import NotFoundError, UnimplementedError
from ..tensor import TensorSpec
from . import tensor_file
from .assets import check_assets
from .format import (ASSETS_DIR, FORMAT, FORMAT_VERSION, MANIFEST_CAP, Where, manifest_path, variables_path)
from .graph_json import GraphReader, _expect_dict, _typed, attach, spec_of

_KEYS = {"format", "format_version", "gpuflow_version", "variables", "functions", "signatures", "assets"}
_VARIABLE_KEYS = {"key", "name", "dtype", "shape", "trainable"}
_SIGNATURE_KEYS = {"function", "inputs", "outputs"}
_TENSOR_KEYS = {"name", "dtype", "shape"}


def load(export_dir, tags=None, options=None):
    """tf.saved_model.load: the SavedModel in `export_dir`, with its variables on the current device.
    `.signatures["serving_default"](**inputs)` returns a dict of tensors. `tags` and `options` are accepted for
    TF compatibility (a gpuflow SavedModel has one meta graph)."""
    from .loaded import Loaded
    checked = read(export_dir, _devices.current())
    variables, functions = build(checked)
    return Loaded(checked, variables, functions)


class Checked:
    """A SavedModel that passed every check: its manifest, graphs (without their tensors yet), signatures,
    assets and the tensor file's layout."""

    def __init__(self, export_dir, manifest, variables, graphs, signatures, assets, tensors, reader, device):
        self.export_dir, self.manifest, self.device = export_dir, manifest, device
        self.variables = variables      # [(key, name, TensorSpec, trainable)]
        self.graphs = graphs            # [Graph] of "functions"
        self.signatures = signatures    # {key: (graph, [(name, TensorSpec)], [(name, TensorSpec)])}
        self.assets = assets            # {name: path}
        self.tensors = tensors          # (entries, data offset) of the tensor file
        self.reader = reader


def read(export_dir, device) -> Checked:
    export_dir = os.fspath(export_dir)
    try:
        return _read(export_dir, device)
    except RecursionError:  # JSON nested deeper than any graph gpuflow writes
        raise Where(export_dir).error("is nested too deeply to be a SavedModel gpuflow wrote") from None


def _read(export_dir, device) -> Checked:
    where = Where(export_dir)
    manifest = read_manifest(export_dir)
    variables = []
    for i, entry in enumerate(_typed(manifest["variables"], list, where / "variables")):
        at = where / "variables" / i
        _expect_dict(entry, _VARIABLE_KEYS, at)
        spec = spec_of([entry["dtype"], entry["shape"]], at)
        if None in spec.shape:
            raise at.error(f"a variable's shape must be known, got {list(spec.shape)}")
        key = _typed(entry["key"], str, at / "key")
        if any(key == k for k, *_ in variables):
            raise at.error(f"the tensor key {key!r} is used twice")
        variables.append((key, _typed(entry["name"], str, at / "name"), spec,
                          _typed(entry["trainable"], bool, at / "trainable")))
    reader = GraphReader([spec for _, _, spec, _ in variables], device)
    graphs = [reader.graph(g, where / "functions" / i)
              for i, g in enumerate(_typed(manifest["functions"], list, where / "functions"))]
    signatures = {}
    for key, entry in _typed(manifest["signatures"], dict, where / "signatures").items():
        signatures[key] = _signature(entry, graphs, where / "signatures" / key)
    assets = check_assets(manifest["assets"], os.path.join(export_dir, ASSETS_DIR), where / "assets")
    path = variables_path(export_dir)
    entries, offset = tensor_file.read_header(path, export_dir)
    wanted = {key: spec for key, _, spec, _ in variables}
    for key, spec in reader.constant_specs.items():
        if key in wanted and wanted[key] != spec:
            raise where.error(f"tensor {key!r} is both a variable and a constant of another shape")
        wanted[key] = spec
    tensor_file.check(entries, wanted, export_dir, path)
    return Checked(export_dir, manifest, variables, graphs, signatures, assets, (entries, offset), reader, device)


def read_manifest(export_dir) -> dict:
    where = Where(export_dir)
    if not os.path.isdir(export_dir):
        raise NotFoundError(f"gf.saved_model.load: {export_dir} is not a directory; a SavedModel is a directory "
                            f"holding {os.path.basename(manifest_path(export_dir))}")
    path = manifest_path(export_dir)
    if not os.path.isfile(path):
        raise NotFoundError(f"gf.saved_model.load: {export_dir} holds no saved_model.json (is it a gpuflow "
                            f"SavedModel? TensorFlow's saved_model.pb is not read)")
    if os.path.getsize(path) > MANIFEST_CAP:
        raise where.error(f"is {os.path.getsize(path):,} bytes, more than the {MANIFEST_CAP >> 20} MiB read")
    try:
        with open(path, "rb") as f:
            manifest = json.loads(f.read().decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise where.error(f"is not valid JSON ({e})") from None
    _typed(manifest, dict, where)
    if manifest.get("format") != FORMAT:
        raise where.error(f"format is {manifest.get('format')!r:.60}, not {FORMAT!r}")
    version = manifest.get("format_version")
    if type(version) is not int or version < 1:
        raise where.error(f"format_version must be a positive int, got {version!r:.40}")
    if version > FORMAT_VERSION:
        raise where.error(f"was written by gpuflow {manifest.get('gpuflow_version')!r:.40} in format version "
                          f"{version}; this gpuflow reads versions up to {FORMAT_VERSION}: upgrade gpuflow",
                          cls=UnimplementedError)
    missing = sorted(_KEYS - set(manifest))
    unknown = sorted(set(manifest) - _KEYS - {"keras"})
    if missing or unknown:
        raise where.error((f"lacks {missing}" if missing else "") + ("; " if missing and unknown else "")
                          + (f"has unknown keys {unknown}" if unknown else ""))
    _typed(manifest["gpuflow_version"], str, where / "gpuflow_version")
    return manifest


def _no_constant(name):
    raise ValueError(f"{name} is not JSON (floats that are not finite are written as tagged strings)")


def _signature(entry, graphs, where):
    _expect_dict(entry, _SIGNATURE_KEYS, where)
    index = entry["function"]
    if type(index) is not int or not 0 <= index < len(graphs):
        raise (where / "function").error(f"function {index!r:.40} is not one of the {len(graphs)} functions")
    graph = graphs[index]
    sides = []
    for side, symbols in (("inputs", graph.inputs), ("outputs", graph.outputs)):
        tensors = _typed(entry[side], list, where / side)
        if len(tensors) != len(symbols):
            raise (where / side).error(f"names {len(tensors)} tensors, the function has {len(symbols)}")
        named = []
        for i, (tensor, symbol) in enumerate(zip(tensors, symbols)):
            at = where / side / i
            _expect_dict(tensor, _TENSOR_KEYS, at)
            name = _typed(tensor["name"], str, at / "name")
            spec = spec_of([tensor["dtype"], tensor["shape"]], at)
            if spec != TensorSpec(symbol.shape, symbol.dtype):
                raise at.error(f"{name} is recorded as {spec.dtype.name}{list(spec.shape)} but the function's "
                               f"value is {symbol.dtype.name}{list(symbol.shape)}")
            if any(name == n for n, _ in named):
                raise at.error(f"the name {name!r} is used twice")
            named.append((name, TensorSpec(spec.shape, spec.dtype, name=name)))
        sides.append(named)
    return graph, sides[0], sides[1]


def build(checked):
    """(variables, the signature functions): the tensors read, the variables and constants made on the device."""
    from ..ops.creation import constant
    from ..tensor import Variable
    from .loaded import SignatureFunction
    entries, offset = checked.tensors
    keys = [key for key, *_ in checked.variables] + sorted(checked.reader.constant_specs)
    arrays = tensor_file.read(variables_path(checked.export_dir), entries, offset, keys)
    with _devices.device(checked.device):
        variables = [Variable(arrays[key], trainable=trainable, name=name, dtype=spec.dtype)
                     for key, name, spec, trainable in checked.variables]
        constants = {key: constant(arrays[key], dtype=spec.dtype)
                     for key, spec in checked.reader.constant_specs.items()}
    attach(checked.reader, variables, constants)
    functions = {key: SignatureFunction(key, graph, inputs, outputs, checked.device)
                 for key, (graph, inputs, outputs) in checked.signatures.items()}
    return variables, functions
