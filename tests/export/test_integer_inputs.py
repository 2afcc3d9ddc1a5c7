"""Integer model inputs in the exporters: a Keras Input(dtype="uint8") or "int8" feeding Rescaling becomes an
integer graph input cast to float32, run in onnxruntime and LiteRT (float and full-integer int8 models), and
matches model.predict."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from export_helpers import keras_outputs, run_onnx

for _package in ("onnx", "onnxruntime", "tflite", "flatbuffers", "ai_edge_litert"):
    pytest.importorskip(_package, reason=f"the export tests need {_package}: pip install 'gpuflow[interop]'")

pytestmark = pytest.mark.interop
L = gf.keras.layers


def image_model(dtype):
    inputs = gf.keras.Input((6, 6, 1), dtype=dtype, name="pixels")
    x = L.Rescaling(1 / 255.0 if dtype == "uint8" else 1 / 128.0)(inputs)
    x = L.Conv2D(3, 3, activation="relu")(x)
    return gf.keras.Model(inputs, L.Dense(2)(L.Flatten()(x)))


def pixels(dtype, n=5):
    info = np.iinfo(dtype)
    return np.random.default_rng(1).integers(info.min, info.max, size=(n, 6, 6, 1), endpoint=True).astype(dtype)


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_onnx(dtype, tmp_path):
    model, x = image_model(dtype), pixels(dtype)
    gf.onnx.export(model, tmp_path / "m.onnx")
    (got,), session = run_onnx(tmp_path / "m.onnx", x)
    assert session.get_inputs()[0].type == f"tensor({dtype})"
    np.testing.assert_allclose(got, keras_outputs(model, x)[0], rtol=0, atol=1e-5)


def run(model_bytes, x):
    interpreter = gf.lite.Interpreter(model_content=model_bytes)
    (detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    (out,) = interpreter.get_output_details()
    return detail, interpreter.get_tensor(out["index"])


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_tflite_float_model(dtype):
    model, x = image_model(dtype), pixels(dtype)
    detail, got = run(gf.lite.TFLiteConverter.from_keras_model(model).convert(), x)
    assert detail["dtype"] == np.dtype(dtype) and detail["quantization"] == (0.0, 0)
    np.testing.assert_allclose(got, keras_outputs(model, x)[0], rtol=0, atol=1e-5)


def test_tflite_int8_model_with_uint8_images():
    model, x = image_model("uint8"), pixels("uint8", n=40)
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
    detail, got = run(converter.convert(), x)
    assert detail["dtype"] == np.uint8  # the image goes in as it is; the model casts, then quantizes
    want = keras_outputs(model, x)[0]
    assert np.abs(got - want).max() <= 0.05 * np.abs(want).max()  # int8 activations: a few quantization steps
