"""Whole-model files in Keras 3's `.keras` layout, the writing side: `model.save(path)` (model_loading.py reads them).

The file is a zip of
  metadata.json               format version, gpuflow version, date saved
  config.json                 {"class_name", "config": get_config(), "build_config", "compile_config", ...}
  model.weights.safetensors   the weights keyed "layers/<weight path>" (saving.weight_paths), and, once the
                              optimizer has stepped, "optimizer/iterations" and "optimizer/<weight path>/<slot>"
Nothing is pickled: configs are JSON, and a class is written by its name (and, for the user's own, its
registered name and module), never as code.
"""
from __future__ import annotations

import datetime
import inspect
import json
import os
import zipfile

import numpy as np

from ... import dtypes as _dtypes
from ...file_io import atomic_file
from .base_layer import SHAPE_KWARGS, Layer
from .layer_serialization import custom_class_fields, serialize_layer
from .registration import registered_name_or_none
from .saving import weight_paths

FORMAT_VERSION = 1
METADATA, CONFIG, WEIGHTS = "metadata.json", "config.json", "model.weights.safetensors"
_SAVE_OPTIONS = {"include_optimizer", "save_format", "zipped"}


def is_model(obj) -> bool:
    """Whether `obj` is a gf.keras Model, by what saving needs of one (its compile state); the Model class itself
    is defined above this module, as Model.save calls it."""
    return isinstance(obj, Layer) and hasattr(obj, "_compiled")


# ---------------------------------------------------------------- paths
def check_path(filepath, what) -> str:
    path = os.fspath(filepath)
    if path.lower().endswith((".h5", ".hdf5")):
        raise ValueError(f"{what}: {path!r} is an HDF5 path; gpuflow does not read or write HDF5 model files. Use "
                         f"a .keras path (a zip of JSON config and safetensors weights); for weights alone use "
                         f"save_weights with a .weights.h5 or .safetensors path")
    if not path.endswith(".keras"):
        raise ValueError(f"{what}: invalid file name {path!r}: a whole-model file must end in .keras (as in Keras "
                         f"3); a path without an extension is a SavedModel directory (see gf.saved_model)")
    return path


def _is_saved_model_path(filepath, kwargs) -> bool:
    """TF2 Keras' SavedModel cases: a path with no extension (`saved_model/mnist`), or save_format="tf" with a
    path that is not a .keras or HDF5 file. Other extensions stay refused below, as likely mistakes."""
    path = os.fspath(filepath)
    fmt = kwargs.get("save_format")
    if path.lower().endswith((".keras", ".h5", ".hdf5")):
        return False
    return fmt == "tf" or (fmt is None and not os.path.splitext(os.path.basename(path.rstrip(os.sep)))[1])


# ---------------------------------------------------------------- save
def save_model(model, filepath, overwrite=True, **kwargs):
    """Writes `model` to a `.keras` file (see the module docstring), atomically: a crash never leaves a
    half-written file at `filepath`."""
    if not is_model(model):
        raise TypeError(f"save_model: expected a gf.keras Model, got {type(model).__name__}")
    if _is_saved_model_path(filepath, kwargs):  # TF2 Keras: model.save("saved_model/mnist") writes a SavedModel
        from ..as_saved_model import save_keras_model
        return save_keras_model(model, filepath, overwrite=overwrite, **kwargs)
    unknown = sorted(set(kwargs) - _SAVE_OPTIONS)
    if unknown:
        raise TypeError(f"save_model: unexpected argument(s) {', '.join(unknown)}")
    if kwargs.get("save_format") not in (None, "keras"):
        raise ValueError(f"save_model: save_format={kwargs['save_format']!r} is not supported for {filepath}; a "
                         f".keras path is a .keras file (leave save_format unset), save_format='tf' writes a "
                         f"SavedModel directory at a path without the .keras extension")
    if kwargs.get("zipped") not in (None, True):
        raise ValueError("save_model: zipped=False (an unzipped directory) is not supported; leave it unset")
    path = check_path(filepath, "save_model")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_model: {path} exists; pass overwrite=True to replace it")

    config = model_config(model)
    entries = weight_paths(model)
    # order="C", not ascontiguousarray, which makes a scalar weight 1-d
    tensors = {f"layers/{p}": np.asarray(v.numpy(), order="C") for p, v in entries}
    from ..optimizers import Optimizer
    optimizer = model.optimizer
    # The state of gpuflow's optimizers only: another object with apply_gradients has no slots we know of.
    if kwargs.get("include_optimizer", True) and isinstance(optimizer, Optimizer) and optimizer.built:
        params, arrays = _optimizer_state(model, entries)
        config["optimizer_params"] = params
        tensors.update(arrays)
    metadata = {"format": "gpuflow.keras", "format_version": FORMAT_VERSION, "gpuflow_version": gpuflow_version(),
                "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}

    from safetensors.numpy import save as safetensors_bytes
    blob = safetensors_bytes(tensors, metadata={"format": "gpuflow"})
    texts = {METADATA: _to_json(metadata, model), CONFIG: _to_json(config, model)}
    with atomic_file(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name, text in texts.items():
                archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
            # Stored, not deflated: weights barely compress, and load_model relies on it (see _entry_cap).
            archive.writestr(WEIGHTS, blob, compress_type=zipfile.ZIP_STORED)


def gpuflow_version() -> str:
    from ..._version import __version__
    return __version__


def _to_json(value, model) -> str:
    def convert(obj):  # NumPy numbers, shapes and dtypes are common in configs; anything else is refused
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if hasattr(obj, "as_list"):
            return obj.as_list()
        if isinstance(obj, _dtypes.DType):
            return obj.name
        raise ValueError(f"save_model: {model.name}'s config holds {type(obj).__name__} {obj!r:.80}, which cannot "
                         f"be written as JSON; get_config() must return plain values (numbers, strings, lists, "
                         f"dicts), e.g. a serialised config instead of an object")
    return json.dumps(value, default=convert, indent=1, allow_nan=True)


def model_config(model) -> dict:
    """config.json's content: the model's class and config, its build shape (subclassed models) and its
    compile arguments."""
    for layer in _configured_layers(model):
        _check_config_complete(type(layer), f"layer {layer.name!r}")
    entry = serialize_layer(model)
    if not model._config_holds_layers and model.built:
        shape = model._build_input_shape
        if shape is None:
            raise ValueError(f"save_model: {model.name} is built but its input shape is unknown; call "
                             f"model.build(input_shape) before saving")
        entry["build_config"] = {"input_shape": _shape_to_json(shape, batch_free=True)}
    if model._compiled is not None:
        entry["compile_config"] = _compile_config(model)
    return entry


def _configured_layers(model):
    """The model and the layers its config lists (nested Sequential/functional models too); the sublayers a
    layer makes in its own __init__ are remade by it and need no config."""
    yield model
    if model._config_holds_layers:
        for layer in model.layers:
            yield from _configured_layers(layer)


def _check_config_complete(cls, what):
    """A class of the user's that inherits get_config from one of gpuflow's but takes constructor arguments that
    get_config does not return could not be rebuilt from its config: say so now, not when the file is loaded."""
    if _is_gpuflow(cls):
        return
    mro = cls.__mro__
    owner = next((k for k in mro if "get_config" in vars(k)), None)
    if owner is None or not _is_gpuflow(owner):
        return  # the user wrote get_config
    # The constructor that get_config describes: the one nearest the owner's (Layer's for LayerConfig, a mixin).
    described = next(k for k in reversed(mro[:mro.index(owner) + 1]) if issubclass(k, owner) and "__init__" in vars(k))
    known = {"self", *SHAPE_KWARGS, *inspect.signature(described.__init__).parameters}
    extra = [p.name for p in inspect.signature(cls.__init__).parameters.values()
             if p.name not in known and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if extra:
        raise ValueError(f"save_model: {what} is a {cls.__name__}, whose __init__ takes {', '.join(extra)} but which "
                         f"does not define get_config(); define get_config() returning those arguments (start from "
                         f"super().get_config()) so it can be rebuilt when the file is loaded")


def _is_gpuflow(cls) -> bool:
    return cls.__module__.split(".")[0] == "gpuflow"


def _shape_to_json(shape, batch_free=False):
    """A shape (or a nest of them) as JSON lists; `batch_free` forgets the batch size, which no weight depends
    on, so a model first called on a big batch is not rebuilt on one."""
    if shape is None:
        return None
    if isinstance(shape, dict):
        return {k: _shape_to_json(v, batch_free) for k, v in shape.items()}
    dims = list(shape.as_list()) if hasattr(shape, "as_list") else list(shape)
    if dims and all(d is None or isinstance(d, (int, np.integer)) for d in dims):
        dims = [None if d is None else int(d) for d in dims]
        return [None] + dims[1:] if batch_free else dims
    if not dims:
        return []
    return [_shape_to_json(s, batch_free) for s in dims]


def _optimizer_state(model, entries):
    """(the weight paths the optimizer updates, in its build order; {file key: array}) for its step count and
    slots. Slots are keyed by the weight's path, which does not change when the model is rebuilt."""
    optimizer = model.optimizer
    path_of = {id(v): p for p, v in entries}
    params, arrays = [], {"optimizer/iterations": np.asarray(optimizer.iterations.numpy())}
    for var in optimizer._tracked:
        if id(var) not in path_of:
            raise ValueError(f"save_model: the optimizer of {model.name} also updates {var.name}, which is not a "
                             f"weight of the model, so its state cannot be saved with it; pass "
                             f"include_optimizer=False to save without the optimizer state")
        params.append(path_of[id(var)])
        for slot in optimizer.slot_names:
            arrays[f"optimizer/{path_of[id(var)]}/{slot}"] = np.asarray(optimizer._slots[id(var)][slot].numpy(),
                                                                       order="C")
    return params, arrays


# ---------------------------------------------------------------- compile config
def families():
    from .. import losses, metrics, optimizers
    return {"loss": losses, "metric": metrics, "optimizer": optimizers}


def _compile_config(model) -> dict:
    state = model._compiled
    return {"optimizer": _serialize_object(state.optimizer, "optimizer"),
            "loss": _serialize_spec(state.loss_spec, "loss"),
            "metrics": _serialize_spec(state.metrics_spec, "metric"),
            "weighted_metrics": _serialize_spec(state.weighted_metrics_spec, "metric"),
            "loss_weights": state.loss_weights, "run_eagerly": state.run_eagerly, "jit_compile": state.jit_compile}


def _serialize_spec(spec, what):
    """compile's loss/metrics argument (None, a name, an object, or a list/dict of those) as JSON."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return {"__per_output__": {str(k): _serialize_spec(v, what) for k, v in spec.items()}}
    if isinstance(spec, (list, tuple)):
        return [_serialize_spec(v, what) for v in spec]
    return _serialize_object(spec, what)


def _serialize_object(obj, what):
    family = families()[what]
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        if obj.__name__ == "<lambda>":
            raise ValueError(f"save_model: the compiled {what} is a lambda; its code is never serialised. Use a "
                             f"named function decorated with @gf.keras.saving.register_keras_serializable() (or "
                             f"passed in custom_objects when loading)")
        try:
            return family.serialize(obj)  # one of gpuflow's functions: saved by its name
        except ValueError:
            registered = registered_name_or_none(obj)
            return {"class_name": "function", "config": obj.__name__, "module": obj.__module__,
                    **({"registered_name": registered} if registered else {})}
    cls = type(obj)
    if _is_gpuflow(cls):
        return family.serialize(obj)
    if not hasattr(obj, "get_config"):
        raise ValueError(f"save_model: the compiled {what} {obj!r:.80} has no get_config(), so it cannot be saved; "
                         f"give {cls.__name__} get_config()/from_config")
    _check_config_complete(cls, f"the compiled {what}")
    return {"class_name": cls.__name__, "config": obj.get_config(), **custom_class_fields(cls)}
