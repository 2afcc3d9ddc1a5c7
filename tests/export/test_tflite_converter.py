"""gf.lite.TFLiteConverter: every converted model is loaded and run by LiteRT's Interpreter (ai-edge-litert).
Float models must match model.predict within 1e-5; int8 models must keep the digits accuracy within one
point of the float model's in a file at least 3.5x smaller."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from export_helpers import keras_outputs, run_tflite

for _package in ("tflite", "flatbuffers"):
    pytest.importorskip(_package, reason=f"TFLite conversion needs {_package}: pip install 'gpuflow[interop]'")
pytest.importorskip("ai_edge_litert", reason="the TFLite tests run models in LiteRT: pip install 'gpuflow[interop]'")

pytestmark = pytest.mark.interop
L = gf.keras.layers
TOLERANCE = 1e-5


def interpreter(model_bytes):
    return gf.lite.Interpreter(model_content=model_bytes)


def tensors_by_name(model_bytes):
    it = interpreter(model_bytes)
    return {d["name"]: d for d in it.get_tensor_details()}


def assert_matches_keras(model, model_bytes, *inputs, atol=TOLERANCE):
    got, want = run_tflite(model_bytes, *inputs), keras_outputs(model, *inputs)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=0, atol=atol)


def mobile_layers_model():
    """Every layer the converter covers, with BatchNorm after a convolution and after a Dense."""
    inputs = gf.keras.Input((8, 8, 3), name="image")
    x = L.Conv2D(8, 3, padding="same")(inputs)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)
    skip = x
    x = L.Conv2D(8, 3, padding="same", groups=8, activation="relu")(x)  # depthwise
    x = L.Conv2D(8, 1)(x)
    x = L.Add()([x, skip])
    x = L.ReLU()(x)
    x = L.MaxPooling2D(2)(x)
    x = L.AveragePooling2D(2, padding="same")(x)
    x = L.Conv2D(4, 2, strides=2, padding="valid", dilation_rate=1)(x)
    flat = L.Flatten()(x)
    x = L.Dense(16, activation="relu")(flat)
    x = L.BatchNormalization()(x)  # after an activation: not foldable, written as SUB / MUL / ADD
    x = L.Dropout(0.5)(x)
    x = L.Reshape((4, 4))(x)
    x = L.Flatten()(x)
    outputs = L.Softmax()(L.Dense(10)(x))
    return gf.keras.Model(inputs, outputs)


def fit_briefly(model, x):
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, np.arange(len(x)) % 10, epochs=2, batch_size=16, verbose=0)


def test_float_mlp_matches_predict_with_dynamic_batch(digits):
    (x, _), _ = digits
    model = gf.keras.Sequential([L.Flatten(input_shape=(8, 8, 1)), L.Dense(32, activation="relu"), L.Dropout(0.2),
                                 L.Dense(10)])
    fit_briefly(model, x[:64])
    model_bytes = gf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert model_bytes[4:8] == b"TFL3"
    for batch in (1, 17):
        assert_matches_keras(model, model_bytes, x[:batch])
    it = interpreter(model_bytes)
    (inp,), (out,) = it.get_input_details(), it.get_output_details()
    assert inp["name"] == model.inputs[0].node.layer.name and list(inp["shape_signature"]) == [-1, 8, 8, 1]
    assert out["name"] == model.layers[-1].name
    runner = it.get_signature_runner()  # the SignatureDef names inputs and outputs like the model
    result = runner(**{inp["name"]: x[:3]})
    np.testing.assert_allclose(result[out["name"]], model.predict(x[:3], verbose=0), atol=TOLERANCE)


def test_float_covers_the_mobile_layers_and_folds_batch_norm():
    model = mobile_layers_model()
    x = np.random.rand(20, 8, 8, 3).astype("float32")
    fit_briefly(model, x)
    model_bytes = gf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert_matches_keras(model, model_bytes, x)
    import tflite
    m = tflite.Model.GetRootAsModel(model_bytes, 0)
    codes = [m.OperatorCodes(m.Subgraphs(0).Operators(i).OpcodeIndex()).BuiltinCode()
             for i in range(m.Subgraphs(0).OperatorsLength())]
    op = tflite.BuiltinOperator
    assert codes.count(op.CONV_2D) == 3 and codes.count(op.DEPTHWISE_CONV_2D) == 1
    assert codes.count(op.SUB) == 1  # one BatchNorm stands alone; the one after the first conv is folded


def test_int8_digits_accuracy_and_size(trained_mobile_cnn, digits):
    (x_train, _), (x_test, y_test) = digits
    model = trained_mobile_cnn
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    float_bytes = converter.convert()
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([image[None]] for image in x_train[:200])
    converter.target_spec.supported_ops = [gf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = np.int8
    converter.inference_output_type = gf.lite.constants.INT8
    int8_bytes = converter.convert()

    assert_matches_keras(model, float_bytes, x_test)
    float_accuracy = (run_tflite(float_bytes, x_test)[0].argmax(1) == y_test).mean()
    int8_accuracy = (run_tflite(int8_bytes, x_test)[0].argmax(1) == y_test).mean()
    assert float_accuracy > 0.9
    assert abs(int8_accuracy - float_accuracy) <= 0.01, (float_accuracy, int8_accuracy)
    assert len(float_bytes) / len(int8_bytes) >= 3.5, (len(float_bytes), len(int8_bytes))

    it = interpreter(int8_bytes)
    assert it.get_input_details()[0]["dtype"] == np.int8 and it.get_output_details()[0]["dtype"] == np.int8
    assert it.get_output_details()[0]["quantization"] == pytest.approx((1 / 256, -128))  # softmax's fixed params
    details = tensors_by_name(int8_bytes)
    conv = model.layers[0].name
    kernel, bias = details[f"{conv}/kernel"], details[f"{conv}/bias"]
    assert kernel["dtype"] == np.int8 and len(kernel["quantization_parameters"]["scales"]) == 32
    assert not kernel["quantization_parameters"]["zero_points"].any()  # symmetric weights
    assert bias["dtype"] == np.int32
    input_scale = details[model.inputs[0].node.layer.name]["quantization"][0]
    np.testing.assert_allclose(bias["quantization_parameters"]["scales"],
                               input_scale * kernel["quantization_parameters"]["scales"], rtol=1e-6)


def test_int8_with_float_inputs_and_outputs(digits):
    (x, _), _ = digits
    model = mobile_layers_model()
    data = np.random.rand(40, 8, 8, 3).astype("float32")
    fit_briefly(model, data)
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: [[data[i:i + 1]] for i in range(40)]
    model_bytes = converter.convert()
    it = interpreter(model_bytes)
    assert it.get_input_details()[0]["dtype"] == np.float32 and it.get_output_details()[0]["dtype"] == np.float32
    ops = {d["name"]: d["dtype"] for d in it.get_tensor_details()}
    assert ops["image/quantized"] == np.int8  # QUANTIZE after the float input, DEQUANTIZE before the output
    assert_matches_keras(model, model_bytes, data, atol=0.05)


def test_float16_weights(trained_mobile_cnn, digits):
    _, (x_test, y_test) = digits
    model = trained_mobile_cnn
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    float_size = len(converter.convert())
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [gf.float16]
    model_bytes = converter.convert()
    assert len(model_bytes) < 0.55 * float_size
    dtypes = {d["name"]: d["dtype"] for d in interpreter(model_bytes).get_tensor_details()}
    assert dtypes[f"{model.layers[-3].name}/kernel/float16"] == np.float16
    assert_matches_keras(model, model_bytes, x_test, atol=1e-2)
    small = gf.keras.Sequential([gf.keras.Input((4,)), L.Dense(3, activation="relu"), L.Dense(2)])
    converter = gf.lite.TFLiteConverter.from_keras_model(small)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = ["float16"]
    assert_matches_keras(small, converter.convert(), np.random.randn(3, 4).astype("float32"), atol=1e-2)


def test_dynamic_range_quantization():
    model = gf.keras.Sequential([gf.keras.Input((8, 8, 1)), L.Conv2D(8, 3, activation="relu"), L.Flatten(),
                                 L.Dense(10)])
    x = np.random.rand(10, 8, 8, 1).astype("float32")
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    model_bytes = converter.convert()
    dtypes = {d["name"]: d["dtype"] for d in interpreter(model_bytes).get_tensor_details()}
    assert dtypes[f"{model.layers[-1].name}/kernel"] == np.int8
    assert dtypes[model.layers[-1].name] == np.float32
    assert_matches_keras(model, model_bytes, x, atol=0.05)


def merges_model():
    a, b, c = (gf.keras.Input((6,), name=n) for n in "abc")
    da, db, dc = (L.Dense(4, activation="relu")(x) for x in (a, b, c))
    outputs = [L.Add()([da, db, dc]), L.Average()([da, db, dc]), L.Maximum()([da, db]), L.Minimum()([db, dc]),
               L.Multiply()([da, dc]), L.Subtract()([da, db]), L.Concatenate()([da, L.Dense(2)(b), dc])]
    return gf.keras.Model([a, b, c], outputs)


def test_merges_in_float_and_int8():
    model = merges_model()
    xs = list(np.random.rand(3, 30, 6).astype("float32"))
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    assert_matches_keras(model, converter.convert(), *xs)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ({n: x[i:i + 1] for n, x in zip("abc", xs)} for i in range(30))
    int8_bytes = converter.convert()
    # Concatenation's int8 kernel copies bytes: inputs quantized otherwise are requantized to its parameters.
    assert any(d["name"].startswith(f"{model.output_names[-1]}/requantized")
               for d in interpreter(int8_bytes).get_tensor_details())
    for got, want in zip(run_tflite(int8_bytes, *xs), keras_outputs(model, *xs)):
        assert np.abs(got - want).max() <= 0.02 * max(1.0, np.abs(want).max())


def test_embedding_in_float_and_float16():
    model = gf.keras.Sequential([gf.keras.Input((5,)), L.Embedding(12, 4), L.GlobalAveragePooling1D(),
                                 L.Dense(3, activation="sigmoid")])
    ids = np.random.randint(0, 12, (7, 5)).astype("float32")
    converter = gf.lite.TFLiteConverter.from_keras_model(model)
    assert_matches_keras(model, converter.convert(), ids)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [gf.float16]
    assert_matches_keras(model, converter.convert(), ids, atol=1e-2)


def test_dense_over_a_time_axis_and_a_softmax_activation():
    model = gf.keras.Sequential([gf.keras.Input((5, 3)), L.Dense(4, activation="tanh"), L.Flatten(),
                                 L.Dense(6, activation="softmax")])
    x = np.random.randn(4, 5, 3).astype("float32")
    assert_matches_keras(model, gf.lite.TFLiteConverter.from_keras_model(model).convert(), x)


def test_model_export_tflite(tmp_path):
    model = gf.keras.Sequential([gf.keras.Input((4,)), L.Dense(3, activation="relu6"), L.Dense(2)])
    model.export(tmp_path / "m.tflite", format="tflite", verbose=False)
    x = np.random.randn(5, 4).astype("float32")
    assert_matches_keras(model, (tmp_path / "m.tflite").read_bytes(), x)


def test_refusals_name_the_layer_or_option():
    lstm = gf.keras.Sequential([gf.keras.Input((5, 3)), L.LSTM(4, name="recurrent")])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"'recurrent' \(LSTM\).*gf.onnx.export covers it"):
        gf.lite.TFLiteConverter.from_keras_model(lstm).convert()
    dense = gf.keras.Sequential([gf.keras.Input((4,)), L.Dense(2)])
    converter = gf.lite.TFLiteConverter.from_keras_model(dense)
    converter.inference_input_type = np.int8
    with pytest.raises(gf.errors.InvalidArgumentError, match="full integer quantization"):
        converter.convert()
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_ops = [gf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with pytest.raises(gf.errors.InvalidArgumentError, match="representative_dataset"):
        converter.convert()
    converter.representative_dataset = lambda: iter([[np.zeros((1, 4), "float32")]])
    converter.inference_input_type = np.uint8
    with pytest.raises(gf.errors.InvalidArgumentError, match="uint8"):
        converter.convert()
    converter.inference_input_type = "int8"
    converter.representative_dataset = lambda: iter([])
    with pytest.raises(gf.errors.InvalidArgumentError, match="no samples"):
        converter.convert()
    sigmoid = gf.keras.Sequential([gf.keras.Input((4,)), L.Dense(2, activation="gelu", name="g")])
    converter = gf.lite.TFLiteConverter.from_keras_model(sigmoid)
    converter.optimizations = [gf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter([[np.ones((1, 4), "float32")]])
    with pytest.raises(gf.errors.InvalidArgumentError, match="'g' \\(Dense\\).*'gelu' has no int8 form"):
        converter.convert()
