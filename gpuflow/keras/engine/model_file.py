"""Whole-model files in Keras 3's `.keras` layout: `model.save(path)` and `load_model(path)`.

The file is a zip of
  metadata.json               format version, gpuflow version, date saved
  config.json                 {"class_name", "config": get_config(), "build_config", "compile_config", ...}
  model.weights.safetensors   the weights keyed "layers/<weight path>" (saving.weight_paths), and, once the
                              optimizer has stepped, "optimizer/iterations" and "optimizer/<weight path>/<slot>"
Nothing is pickled and loading runs no code from the file: class names are looked up only among
gf.keras' own classes, registered objects (gf.keras.saving) and the caller's custom_objects.
"""
from __future__ import annotations

import datetime
import inspect
import json
import os
import zipfile
import zlib

import numpy as np

from ... import dtypes as _dtypes
from .atomic_file import atomic_file
from .saving import (assign_all, custom_class_fields, deserialize_layer, match_weights, read_safetensors,
                     serialize_layer, unknown_class_error, weight_paths)

FORMAT_VERSION = 1
_METADATA, _CONFIG, _WEIGHTS = "metadata.json", "config.json", "model.weights.safetensors"
_SAVE_OPTIONS = {"include_optimizer", "save_format", "zipped"}


# ---------------------------------------------------------------- paths
def _check_path(filepath, what) -> str:
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
    from .training import Model
    if not isinstance(model, Model):
        raise TypeError(f"save_model: expected a gf.keras Model, got {type(model).__name__}")
    if _is_saved_model_path(filepath, kwargs):  # TF2 Keras: model.save("saved_model/mnist") writes a SavedModel
        from ...saved_model.keras_model import save_keras_model
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
    path = _check_path(filepath, "save_model")
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
    metadata = {"format": "gpuflow.keras", "format_version": FORMAT_VERSION, "gpuflow_version": _version(),
                "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}

    from safetensors.numpy import save as safetensors_bytes
    blob = safetensors_bytes(tensors, metadata={"format": "gpuflow"})
    texts = {_METADATA: _to_json(metadata, model), _CONFIG: _to_json(config, model)}
    with atomic_file(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name, text in texts.items():
                archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
            # Stored, not deflated: weights barely compress, and load_model relies on it (see _entry_cap).
            archive.writestr(_WEIGHTS, blob, compress_type=zipfile.ZIP_STORED)


def _version() -> str:
    from ... import __version__
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
    from .functional import Functional
    from .sequential import Sequential
    for layer in _configured_layers(model):
        _check_config_complete(type(layer), f"layer {layer.name!r}")
    entry = serialize_layer(model)
    if not isinstance(model, (Sequential, Functional)) and model.built:
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
    from .functional import Functional
    from .sequential import Sequential
    yield model
    if isinstance(model, (Sequential, Functional)):
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
    from .base_layer import SHAPE_KWARGS
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
def _families():
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
    family = _families()[what]
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        if obj.__name__ == "<lambda>":
            raise ValueError(f"save_model: the compiled {what} is a lambda; its code is never serialised. Use a "
                             f"named function decorated with @gf.keras.saving.register_keras_serializable() (or "
                             f"passed in custom_objects when loading)")
        try:
            return family.serialize(obj)  # one of gpuflow's functions: saved by its name
        except ValueError:
            from ..saving.registration import registered_name_or_none
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


def _deserialize_spec(spec, what, custom_objects):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return [_deserialize_spec(v, what, custom_objects) for v in spec]
    if isinstance(spec, dict) and set(spec) == {"__per_output__"}:
        return {k: _deserialize_spec(v, what, custom_objects) for k, v in spec["__per_output__"].items()}
    return _deserialize_object(spec, what, custom_objects)


def _deserialize_object(entry, what, custom_objects):
    from ..saving.registration import lookup
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f"compile config: cannot read the {what} {entry!r:.80}")
    name, registered = entry["class_name"], entry.get("registered_name")
    if name == "function":
        fn = lookup(entry.get("config"), registered, custom_objects)
        if fn is None and str(entry.get("module")).split(".")[0] == "gpuflow":
            fn = _gpuflow_function(entry.get("config"))
        if fn is None:
            fn_name = entry.get("config")
            raise ValueError(f"unknown {what} function {fn_name!r} (from module {entry.get('module')!r}): register it "
                             f"with @gf.keras.saving.register_keras_serializable(), pass custom_objects="
                             f"{{{fn_name!r}: {fn_name}}}, or load with compile=False")
        return fn
    cls = lookup(name, registered, custom_objects)
    if cls is not None:
        return cls.from_config(entry.get("config") or {})
    if "module" in entry:  # a user's class that is neither registered nor given
        raise unknown_class_error(name, what, registered, entry["module"])
    return _families()[what].deserialize(entry)


def _gpuflow_function(name):
    """One of gpuflow's loss or metric functions used in the other role (`metrics=[losses.huber]`), which the
    role's own name table lacks; looked up in both tables, never by importing what the file names."""
    from .. import losses, metrics
    return losses.FUNCTIONS.get(name) or metrics.FUNCTIONS.get(name)


def _compile_from_config(model, config, custom_objects):
    objects = {key: _deserialize_spec(config.get(key), what, custom_objects)
               for key, what in (("loss", "loss"), ("metrics", "metric"), ("weighted_metrics", "metric"))}
    optimizer = _deserialize_object(config["optimizer"], "optimizer", custom_objects) \
        if isinstance(config.get("optimizer"), dict) else config.get("optimizer", "rmsprop")
    model.compile(optimizer=optimizer, loss_weights=config.get("loss_weights"),
                  run_eagerly=config.get("run_eagerly"), jit_compile=config.get("jit_compile"), **objects)


def _restore_optimizer(model, params, stored, path):
    """Builds the new optimizer on the same weights, in the same order, and assigns its saved state."""
    optimizer = model.optimizer
    by_path = dict(weight_paths(model))
    missing = [p for p in params if p not in by_path]
    if missing:
        raise ValueError(f"load_model: {path}: the optimizer state is for weights the model lacks: "
                         f"{', '.join(missing)}")
    variables = [by_path[p] for p in params]
    optimizer.build(variables)
    entries = [("optimizer/iterations", optimizer.iterations)]
    entries += [(f"optimizer/{p}/{slot}", optimizer._slots[id(v)][slot])
                for p, v in zip(params, variables) for slot in optimizer.slot_names]
    ok, problems = match_weights(entries, {k: v for k, v in stored.items() if k.startswith("optimizer/")})
    if problems:
        raise ValueError(f"load_model: {path}: the optimizer state does not match {type(optimizer).__name__} "
                         f"({len(problems)} difference(s)):\n  " + "\n  ".join(problems))
    assign_all(ok)


def assign_layer_weights(model, stored) -> list:
    """Assigns the "layers/<weight path>" arrays of `stored` to the model's weights. Returns the mismatches
    (missing, extra or misshapen weights); when there are any, nothing is assigned."""
    layer_weights = {k[len("layers/"):]: v for k, v in stored.items() if k.startswith("layers/")}
    ok, problems = match_weights(weight_paths(model), layer_weights)
    if not problems:
        assign_all(ok)
    return problems


# ---------------------------------------------------------------- load
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved in a `.keras` file, built, with its weights and (when `compile`) its compile state and
    optimizer slots. `safe_mode` is accepted for Keras compatibility: loading never runs code from the file
    either way, so a file that would need unsafe deserialisation (a Lambda) cannot exist."""
    if os.path.isdir(filepath):  # TF2 Keras' whole-model SavedModel directory (model.save("dir"))
        from ...saved_model.keras_model import load_keras_model
        return load_keras_model(filepath, custom_objects=custom_objects, compile=compile)
    path = _check_path(filepath, "load_model")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: no file {path}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"load_model: custom_objects must be a dict of name → class or function, got "
                        f"{type(custom_objects).__name__}")
    metadata, config, weights = _read_archive(path)
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"load_model: {path} has format version {version!r}; this gpuflow "
                         f"({_version()}) reads versions up to {FORMAT_VERSION}")
    return model_from_parts(config, _read_weights(weights, path), path, custom_objects, compile)


def model_from_parts(config, stored, path, custom_objects, compile):
    """The model `config` (config.json's content) describes, built, with the weights and optimizer state in
    `stored` ({"layers/<weight path>" or "optimizer/...": array}); shared by .keras files and SavedModels."""
    from ..saving.registration import CustomObjectScope
    from .training import Model
    try:
        with CustomObjectScope(custom_objects or {}):
            model = deserialize_layer(config, custom_objects)
            if not isinstance(model, Model):
                raise ValueError(f"config.json describes a {type(model).__name__}, not a model")
            build = config.get("build_config")
            if build and build.get("input_shape") is not None:
                _build(model, build["input_shape"])
            problems = assign_layer_weights(model, stored)
            if problems:
                raise ValueError(f"the weights do not match the model {model.name} rebuilt from config.json "
                                 f"({len(problems)} difference(s)):\n  " + "\n  ".join(problems))
            if compile and config.get("compile_config"):
                _compile_from_config(model, config["compile_config"], custom_objects)
                if config.get("optimizer_params"):
                    _restore_optimizer(model, config["optimizer_params"], stored, path)
    except KeyError as e:
        raise ValueError(f"load_model: {path}: config.json lacks the key {e.args[0]!r}") from None
    except (ValueError, TypeError) as e:
        if str(e).startswith("load_model: "):
            raise
        raise (TypeError if isinstance(e, TypeError) else ValueError)(f"load_model: {path}: {e}") from e
    return model


def _build(model, input_shape):
    """A subclassed model makes its weights on its first call: call it on zeros of the saved input shape."""
    from .base_layer import map_shapes
    from .training import Model
    shape = map_shapes(lambda s: tuple(s), input_shape)
    if type(model).build is not Model.build:
        model.build(shape)  # the user's own build(), as the first call would run it
    Model.build(model, shape)  # runs call once, so the sublayers make their weights


def _read_archive(path):
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"load_model: {path} is not a .keras file (not a zip archive); was it written by "
                         f"model.save?") from None
    with archive:
        names = set(archive.namelist())
        missing = [n for n in (_METADATA, _CONFIG, _WEIGHTS) if n not in names]
        if missing:
            raise ValueError(f"load_model: {path} lacks {', '.join(missing)} (it has {', '.join(sorted(names))}); "
                             f"it is not a complete .keras file written by gpuflow")
        parsed = []
        for name in (_METADATA, _CONFIG):
            try:
                value = json.loads(_read_entry(archive, name, path).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ValueError(f"load_model: {path}: {name} is not valid JSON ({e})") from None
            if not isinstance(value, dict):
                raise ValueError(f"load_model: {path}: {name} must hold a JSON object, got {type(value).__name__}")
            parsed.append(value)
        return parsed[0], parsed[1], _read_entry(archive, _WEIGHTS, path)


# A zip entry can inflate ~1000-fold, so a small file could otherwise make load_model fill the memory
# (a zip bomb). Each entry is refused above a cap, first by the size the archive declares for it, then
# while it is read, in case the declaration lies. The JSON entries of the largest models are a few MB.
_JSON_CAP = 64 << 20


def _entry_cap(name, path) -> int:
    """The most bytes `name` may inflate to. save_model stores the weights uncompressed, so they are
    never larger than the file itself; only a rewritten (recompressed) or forged archive can exceed it."""
    return os.path.getsize(path) if name == _WEIGHTS else _JSON_CAP


def _read_entry(archive, name, path) -> bytes:
    cap = _entry_cap(name, path)
    info = archive.getinfo(name)
    if info.file_size > cap:
        raise _too_big(path, name, f"declares {info.file_size:,} bytes", cap)
    try:
        with archive.open(info) as entry:
            data = entry.read(cap + 1)        # never more than cap + 1 bytes, whatever the header says
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise ValueError(f"load_model: {path}: {name} is damaged ({e}); save the model again") from None
    if len(data) > cap:
        raise _too_big(path, name, "inflates past its declared size", cap)
    return data


def _too_big(path, name, what, cap):
    limit = f"the file's own size ({cap:,} bytes), as gpuflow stores weights uncompressed" if name == _WEIGHTS \
        else f"the {cap >> 20} MiB gpuflow reads for it"
    return ValueError(f"load_model: {path}: {name} {what}, more than {limit}; the archive is damaged or forged (a "
                      f"zip bomb). Load only files written by model.save, or save the model again")


def _read_weights(blob, path):
    try:
        return read_safetensors(blob)
    except ValueError as e:
        raise ValueError(f"load_model: {path}: {_WEIGHTS}: {e}") from None

