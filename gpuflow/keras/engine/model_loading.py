"""Whole-model files in Keras 3's `.keras` layout, the reading side: `load_model(path)` (model_file.py writes
them and says what they hold).

Loading runs no code from the file: class names are looked up only among gf.keras' own classes, registered
objects (gf.keras.saving) and the caller's custom_objects.
"""
from __future__ import annotations

import json
import os
import zipfile
import zlib

from .. import layers  # noqa: F401  (defines gpuflow's layer classes, which configs name: see layer_config.py)
from .layer_serialization import deserialize_layer, unknown_class_error
from .layer_symbolic import map_shapes
from .model_file import CONFIG, FORMAT_VERSION, METADATA, WEIGHTS, check_path, families, gpuflow_version
from .registration import CustomObjectScope, lookup
from ...file_io import read_safetensors
from .saving import assign_all, match_weights, weight_paths
from .training import Model


def _deserialize_spec(spec, what, custom_objects):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return [_deserialize_spec(v, what, custom_objects) for v in spec]
    if isinstance(spec, dict) and set(spec) == {"__per_output__"}:
        return {k: _deserialize_spec(v, what, custom_objects) for k, v in spec["__per_output__"].items()}
    return _deserialize_object(spec, what, custom_objects)


def _deserialize_object(entry, what, custom_objects):
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
    return families()[what].deserialize(entry)


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
        from ..as_saved_model import load_keras_model
        return load_keras_model(filepath, custom_objects=custom_objects, compile=compile)
    path = check_path(filepath, "load_model")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: no file {path}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"load_model: custom_objects must be a dict of name → class or function, got "
                        f"{type(custom_objects).__name__}")
    metadata, config, weights = _read_archive(path)
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"load_model: {path} has format version {version!r}; this gpuflow "
                         f"({gpuflow_version()}) reads versions up to {FORMAT_VERSION}")
    return model_from_parts(config, _read_weights(weights, path), path, custom_objects, compile)


def model_from_parts(config, stored, path, custom_objects, compile):
    """The model `config` (config.json's content) describes, built, with the weights and optimizer state in
    `stored` ({"layers/<weight path>" or "optimizer/...": array}); shared by .keras files and SavedModels."""
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
        missing = [n for n in (METADATA, CONFIG, WEIGHTS) if n not in names]
        if missing:
            raise ValueError(f"load_model: {path} lacks {', '.join(missing)} (it has {', '.join(sorted(names))}); "
                             f"it is not a complete .keras file written by gpuflow")
        parsed = []
        for name in (METADATA, CONFIG):
            try:
                value = json.loads(_read_entry(archive, name, path).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ValueError(f"load_model: {path}: {name} is not valid JSON ({e})") from None
            if not isinstance(value, dict):
                raise ValueError(f"load_model: {path}: {name} must hold a JSON object, got {type(value).__name__}")
            parsed.append(value)
        return parsed[0], parsed[1], _read_entry(archive, WEIGHTS, path)


# A zip entry can inflate ~1000-fold, so a small file could otherwise make load_model fill the memory
# (a zip bomb). Each entry is refused above a cap, first by the size the archive declares for it, then
# while it is read, in case the declaration lies. The JSON entries of the largest models are a few MB.
_JSON_CAP = 64 << 20


def _entry_cap(name, path) -> int:
    """The most bytes `name` may inflate to. save_model stores the weights uncompressed, so they are
    never larger than the file itself; only a rewritten (recompressed) or forged archive can exceed it."""
    return os.path.getsize(path) if name == WEIGHTS else _JSON_CAP


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
    limit = f"the file's own size ({cap:,} bytes), as gpuflow stores weights uncompressed" if name == WEIGHTS \
        else f"the {cap >> 20} MiB gpuflow reads for it"
    return ValueError(f"load_model: {path}: {name} {what}, more than {limit}; the archive is damaged or forged (a "
                      f"zip bomb). Load only files written by model.save, or save the model again")


def _read_weights(blob, path):
    try:
        return read_safetensors(blob)
    except ValueError as e:
        raise ValueError(f"load_model: {path}: {WEIGHTS}: {e}") from None
