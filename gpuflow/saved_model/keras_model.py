"""Keras models as SavedModels: model.save("dir") / keras.models.save_model, and keras.models.load_model("dir").

The SavedModel serves without the model's classes (its traced serving signature); its "keras" entry (the
.keras file's config.json content) and the weights under their Keras paths let load_model rebuild a trainable
model, compiled and with its optimizer state, where the classes are available.
"""
from __future__ import annotations

import os

from .. import devices as _devices
from ..tensor import TensorSpec
from . import tensor_file
from .format import variables_path

_OPTIONS = {"include_optimizer", "save_format", "signatures", "options"}


def save_keras_model(model, filepath, overwrite=True, **kwargs):
    from .save import write_saved_model
    unknown = sorted(set(kwargs) - _OPTIONS)
    if unknown:
        raise TypeError(f"save_model: unexpected argument(s) {', '.join(unknown)} for a SavedModel directory")
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_model: {path} exists; pass overwrite=True to replace it")
    write_saved_model(model, path, kwargs.get("signatures"), kwargs.get("include_optimizer", True))


def export_saved_model(model, filepath, verbose=True, input_signature=None, **kwargs):
    """Keras 3's model.export(path) (format "tf_saved_model"): the serving signature only matters to servers,
    but the directory is the same as model.save's."""
    from ..graph.function import Function
    from .save import write_saved_model
    if kwargs:
        raise TypeError(f"export: unexpected argument(s) {', '.join(sorted(kwargs))}")
    signatures = None
    if input_signature is not None:  # named after the model's inputs, as its default signature is
        specs = list(input_signature)
        names = _input_names(model, len(specs))
        specs = [TensorSpec(s.shape, s.dtype, name=s.name or n) for s, n in zip(specs, names)]
        signatures = Function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False),
                              name=f"{model.name}_serve", input_signature=specs)
    write_saved_model(model, filepath, signatures)
    if verbose:
        print(f"Saved artifact at '{os.fspath(filepath)}'. Serve it with: gpuflow-serve "
              f"--model_name={model.name} --model_base_path=<folder holding numbered versions>")


def _input_names(model, count):
    from .signatures import keras_serving_function
    try:
        names = keras_serving_function(model).input_names
    except ValueError:  # not built: the specs given are all there is
        names = []
    return names if len(names) == count else [f"input_{i}" for i in range(count)]


def load_keras_model(export_dir, custom_objects=None, compile=True):
    from ..keras.engine.model_loading import model_from_parts
    from .load import read
    path = os.fspath(export_dir)
    checked = read(path, _devices.current())   # every check of gf.saved_model.load, before anything is read
    config = checked.manifest.get("keras")
    if not isinstance(config, dict):
        raise ValueError(f"load_model: {path} is a SavedModel without a Keras model config (written by "
                         f"gf.saved_model.save of another object); load it with gf.saved_model.load")
    entries, offset = checked.tensors
    layer_keys = {key: "layers/" + key[len("variables/"):] for key, *_ in checked.variables
                  if key.startswith("variables/")}
    keys = list(layer_keys) + sorted(k for k in entries if k.startswith("optimizer/"))
    arrays = tensor_file.read(variables_path(path), entries, offset, keys)
    stored = {layer_keys.get(k, k): v for k, v in arrays.items()}
    return model_from_parts(config, stored, path, custom_objects, compile)
