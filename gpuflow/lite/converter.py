"""`gf.lite.TFLiteConverter`: TF's converter API over the export graph.

    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None]] for x in x_train[:200])
    converter.target_spec.supported_ops = [gf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = np.int8       # or gf.lite.constants.INT8, or "int8"
    converter.inference_output_type = np.int8
    tflite_bytes = converter.convert()

What the options select (as in TF):
  no optimizations                                  float32 model
  DEFAULT + supported_types=[gf.float16]            float16 weights, float32 compute
  DEFAULT + representative_dataset                  full integer: int8 weights and activations, float32 (or
                                                    int8) inputs and outputs
  DEFAULT alone                                     dynamic range: int8 Dense/Conv2D weights, float activations
"""
from __future__ import annotations

import enum

import numpy as np

from .._export import keras_graph
from .._export.graph import ExportError


class Optimize(enum.Enum):
    """tf.lite.Optimize: DEFAULT asks for post-training quantization (int8 with a representative_dataset)."""
    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"     # deprecated aliases of DEFAULT in TF; the same here
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"
    EXPERIMENTAL_SPARSITY = "EXPERIMENTAL_SPARSITY"


class OpsSet(enum.Enum):
    """tf.lite.OpsSet: TFLITE_BUILTINS, or TFLITE_BUILTINS_INT8 for full-integer models."""
    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    SELECT_TF_OPS = "SELECT_TF_OPS"
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 = \
        "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"


class constants:  # noqa: N801 - tf.lite.constants (TF 1's names for the inference types)
    """tf.lite.constants: the inference input/output types (FLOAT, FLOAT16, INT8, ...)."""
    FLOAT = np.float32
    FLOAT16 = np.float16
    INT8 = np.int8
    INT32 = np.int32
    QUANTIZED_UINT8 = np.uint8


class TargetSpec:
    """tf.lite.TargetSpec: the converter's supported_ops (OpsSet) and supported_types (e.g. [gf.float16])."""

    def __init__(self, supported_ops=None, supported_types=None):
        self.supported_ops = set(supported_ops or {OpsSet.TFLITE_BUILTINS})
        self.supported_types = set(supported_types or ())


class RepresentativeDataset:
    """tf.lite.RepresentativeDataset: wraps a generator function of input lists."""

    def __init__(self, input_gen):
        self.input_gen = input_gen


def _inference_type(value, what):
    """np.float32 or np.int8 from the spellings a user may give: a NumPy type, a gf dtype, a name."""
    name = getattr(value, "name", None) or (value if isinstance(value, str) else None)
    if name is None and value is not None:
        try:
            name = np.dtype(value).name
        except TypeError:
            name = None
    if value is None or name == "float32":
        return np.float32
    if name == "int8":
        return np.int8
    raise ExportError(f"TFLiteConverter: {what} must be float32 (the default) or int8 (np.int8, gf.int8, "
                      f"gf.lite.constants.INT8 or 'int8'), got {value!r}; uint8 and int16 are not supported (a model "
                      f"whose Input is uint8 keeps it as its input dtype: see docs/export.md)")


def _is_float16(t):
    return getattr(t, "name", None) == "float16" or t in ("float16", np.float16)


class TFLiteConverter:
    """tf.lite.TFLiteConverter: `TFLiteConverter.from_keras_model(model).convert()` returns a .tflite
    flatbuffer (float32, float16 weights, dynamic-range or full-integer int8; see docs/export.md).

    Devices: any (the model's weights are read to the host)
    """

    def __init__(self, model):
        self._model = model
        self.optimizations = []
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_input_type = np.float32
        self.inference_output_type = np.float32
        self.allow_custom_ops = False
        self.experimental_new_converter = True

    @classmethod
    def from_keras_model(cls, model):
        return cls(model)

    @classmethod
    def from_saved_model(cls, saved_model_dir, signature_keys=None, tags=None):
        """The Keras model a SavedModel directory holds (gf.keras.models.load_model: its classes must be
        importable), converted like from_keras_model; a SavedModel of a plain function is refused."""
        from ..keras.models import load_model
        try:
            model = load_model(saved_model_dir)
        except Exception as e:  # noqa: BLE001 - said with the reason, below
            raise NotImplementedError(f"TFLiteConverter.from_saved_model({saved_model_dir!r}): gpuflow converts "
                                      f"the Keras model a SavedModel holds, and could not restore one ({e}); "
                                      f"convert the model with TFLiteConverter.from_keras_model(model)") from e
        return cls(model)

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None):
        raise NotImplementedError("TFLiteConverter.from_concrete_functions: gpuflow converts Keras models; use "
                                  "TFLiteConverter.from_keras_model(model)")

    def _mode(self):
        optimize = bool(set(self.optimizations) & set(Optimize))
        ops = set(self.target_spec.supported_ops)
        unknown = ops - {OpsSet.TFLITE_BUILTINS, OpsSet.TFLITE_BUILTINS_INT8}
        if unknown:
            raise ExportError(f"TFLiteConverter: target_spec.supported_ops {sorted(o.name for o in unknown)} are not "
                              f"supported; gpuflow writes TFLite builtin ops (TFLITE_BUILTINS, TFLITE_BUILTINS_INT8)")
        int8_only = ops == {OpsSet.TFLITE_BUILTINS_INT8}
        types = self.target_spec.supported_types
        if not optimize:
            return "float"
        if self.representative_dataset is not None and not (types and all(_is_float16(t) for t in types)):
            return "int8"
        if int8_only:
            raise ExportError("TFLiteConverter: supported_ops=[TFLITE_BUILTINS_INT8] needs a representative_dataset "
                              "to calibrate the activations (a generator function yielding lists of model inputs)")
        if types and all(_is_float16(t) for t in types):
            return "float16"
        return "dynamic"

    def convert(self):
        """The TFLite flatbuffer (bytes)."""
        try:
            import flatbuffers  # noqa: F401
            import tflite  # noqa: F401
        except ImportError:
            raise ImportError('gf.lite.TFLiteConverter needs the tflite and flatbuffers packages: pip install '
                              '"gpuflow[interop]"') from None
        from .build import build_model
        mode = self._mode()
        in_type = _inference_type(self.inference_input_type, "inference_input_type")
        out_type = _inference_type(self.inference_output_type, "inference_output_type")
        if mode != "int8" and (in_type is np.int8 or out_type is np.int8):
            raise ExportError("TFLiteConverter: int8 inference_input_type / inference_output_type need full integer "
                              "quantization: optimizations=[gf.lite.Optimize.DEFAULT] and a representative_dataset")
        graph = keras_graph(self._model, "TFLite")
        if mode != "int8":
            return build_model(graph, mode)
        dataset = self.representative_dataset
        if isinstance(dataset, RepresentativeDataset):
            dataset = dataset.input_gen
        from .quantize import calibrate
        ranges = calibrate(build_model(graph, "float"), dataset, [v.name for v in graph.inputs])
        return build_model(graph, "int8", ranges=ranges, int8_input=in_type is np.int8,
                           int8_output=out_type is np.int8)
