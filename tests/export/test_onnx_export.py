"""gf.onnx.export: every exported file is checked by onnx.checker and run by onnxruntime, and its outputs
must match model.predict within 1e-5."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from export_helpers import example, keras_outputs, run_onnx

onnx = pytest.importorskip("onnx", reason="ONNX export needs the onnx package: pip install 'gpuflow[interop]'")
pytest.importorskip("onnxruntime", reason="the ONNX tests run files in onnxruntime: pip install 'gpuflow[interop]'")

pytestmark = pytest.mark.interop
L = gf.keras.layers
TOLERANCE = 1e-5


def check(model, tmp_path, *inputs, opset=17):
    """Exports, runs in onnxruntime, compares with predict; returns the ModelProto and the session."""
    path = tmp_path / f"{model.name}.onnx"
    proto = gf.onnx.export(model, path, opset=opset)
    got, session = run_onnx(path, *inputs)
    want = keras_outputs(model, *inputs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=0, atol=TOLERANCE)
    return proto, session


def fit_briefly(model, x, classes=10):
    """A few steps of training so BatchNorm statistics and weights are not their initial values."""
    model.compile("adam", "sparse_categorical_crossentropy" if classes else "mse")
    y = np.arange(len(x)) % classes
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)


def test_mlp_from_the_example_with_dynamic_batch_and_pinned_versions(tmp_path):
    model = example("mnist_mlp").build_model((8, 8))
    x = np.random.rand(7, 8, 8).astype("float32")
    fit_briefly(model, x)
    proto, session = check(model, tmp_path, x)
    check(model, tmp_path, x[:1])  # another batch size, same file
    assert proto.ir_version == 8 and [(o.domain, o.version) for o in proto.opset_import] == [("", 17)]
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert inp.name == model.inputs[0].node.layer.name and inp.shape == ["batch", 8, 8]
    assert out.name == model.layers[-1].name and out.shape == ["batch", 10]
    assert "Dropout" not in {n.op_type for n in proto.graph.node}
    onnx.checker.check_model(onnx.load(tmp_path / f"{model.name}.onnx"), full_check=True)


def test_probability_model_nesting_the_mlp(tmp_path):
    inner = example("mnist_mlp").build_model((8, 8))
    outer = gf.keras.Sequential([inner, L.Softmax()])
    x = np.random.rand(5, 8, 8).astype("float32")
    outer(x)
    _, session = check(outer, tmp_path, x)
    assert session.get_outputs()[0].name == outer.layers[-1].name


def test_cnn_from_the_example_with_batch_norm(tmp_path):
    model = example("cnn").build_model((8, 8, 1))
    x = np.random.rand(9, 8, 8, 1).astype("float32")
    check(model, tmp_path, x)
    bn = gf.keras.Sequential([gf.keras.Input((8, 8, 1)), L.Conv2D(8, 3, padding="same"), L.BatchNormalization(),
                              L.ReLU(), L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
                              L.BatchNormalization(), L.MaxPooling2D(2, padding="same"), L.Flatten(), L.Dense(10)])
    fit_briefly(bn, x)
    proto, _ = check(bn, tmp_path, x)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Conv") == 2 and ops.count("Sub") == 1  # the first BatchNorm folded, the second not


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("layer", ["lstm", "gru", "gru_reset_before", "simple_rnn"])
def test_recurrent_layers(tmp_path, layer, go_backwards, return_sequences):
    make = {"lstm": L.LSTM, "gru": L.GRU, "simple_rnn": L.SimpleRNN,
            "gru_reset_before": lambda *a, **k: L.GRU(*a, reset_after=False, **k)}[layer]
    model = gf.keras.Sequential([gf.keras.Input((7, 5)),
                                 make(6, go_backwards=go_backwards, return_sequences=return_sequences)])
    proto, _ = check(model, tmp_path, np.random.randn(4, 7, 5).astype("float32"))
    assert {"lstm": "LSTM", "gru": "GRU", "gru_reset_before": "GRU", "simple_rnn": "RNN"}[layer] in \
        {n.op_type for n in proto.graph.node}


def test_lstm_model_from_the_example(tmp_path):
    model = gf.keras.Sequential([gf.keras.Input((8, 8)), L.LSTM(64), L.Dense(10)])  # examples/lstm_sequence.py
    x = np.random.rand(6, 8, 8).astype("float32")
    fit_briefly(model, x)
    check(model, tmp_path, x)


def test_lstm_states_and_bidirectional(tmp_path):
    inputs = gf.keras.Input((7, 5), name="sequence")
    sequence, h, c = L.LSTM(6, return_sequences=True, return_state=True)(inputs)
    both = L.Bidirectional(L.GRU(4, return_sequences=True))(sequence)
    last = L.Bidirectional(L.LSTM(3), merge_mode="sum")(both)
    model = gf.keras.Model(inputs, [last, h, c])
    _, session = check(model, tmp_path, np.random.randn(3, 7, 5).astype("float32"))
    names = [o.name for o in session.get_outputs()]
    assert len(set(names)) == 3 and session.get_inputs()[0].name == "sequence"


@pytest.mark.parametrize("ids_dtype", ["float32", "int32"])
def test_embedding_then_lstm(tmp_path, ids_dtype):
    model = gf.keras.Sequential([gf.keras.Input((9,), dtype=ids_dtype), L.Embedding(20, 4), L.LSTM(5),
                                 L.Dense(3, activation="softmax")])
    ids = np.random.randint(0, 20, (4, 9)).astype(ids_dtype)
    proto, _ = check(model, tmp_path, ids)
    assert "Gather" in {n.op_type for n in proto.graph.node}


def test_functional_merges_and_activations(tmp_path):
    a, b = gf.keras.Input((6,), name="a"), gf.keras.Input((6,), name="b")
    shared = L.Dense(4, activation="tanh")
    joined = L.Concatenate()([shared(a), shared(b), L.Subtract()([a, b])])
    summed = L.Add()([L.Dense(3, activation="gelu")(joined), L.Dense(3, activation="selu")(joined)])
    mixed = L.Average()([L.Multiply()([summed, summed]), L.Maximum()([summed, L.Dense(3, activation="silu")(joined)]),
                         L.Minimum()([summed, L.Dense(3, activation="elu")(joined)])])
    outputs = [mixed, L.Activation("hard_sigmoid")(summed), L.Dense(3, activation="softplus")(joined),
               L.Activation("softsign")(joined), L.Dense(3, activation="log_softmax")(joined),
               L.Dense(2, activation="exponential")(joined), L.LeakyReLU(0.1)(summed),
               L.ReLU(max_value=1.5, negative_slope=0.2, threshold=0.1)(summed), L.Activation("relu6")(summed),
               L.Activation("sigmoid")(summed)]
    model = gf.keras.Model([a, b], outputs)
    _, session = check(model, tmp_path, *np.random.randn(2, 5, 6).astype("float32"))
    assert [i.name for i in session.get_inputs()] == ["a", "b"]


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_sequence_and_image_layers_across_opsets(tmp_path, opset):
    conv1d = gf.keras.Sequential([
        gf.keras.Input((10, 3)), L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
        L.ZeroPadding1D(2), L.MaxPooling1D(2, padding="same"), L.Conv1D(4, 2, strides=2),
        L.AveragePooling1D(2, padding="same"), L.LayerNormalization(), L.GlobalMaxPooling1D()])
    check(conv1d, tmp_path, np.random.randn(4, 10, 3).astype("float32"), opset=opset)
    conv2d = gf.keras.Sequential([
        gf.keras.Input((9, 9, 3)), L.Rescaling(0.5, offset=-1.0), L.ZeroPadding2D(1),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu6"), L.AveragePooling2D(2, padding="same"),
        L.Conv2D(4, 1, groups=2), L.GlobalAveragePooling2D(keepdims=True), L.Reshape((-1,)), L.Permute((1,)),
        L.BatchNormalization(), L.Dense(3)])
    check(conv2d, tmp_path, np.random.randn(4, 9, 9, 3).astype("float32"), opset=opset)


def test_model_export_method(tmp_path):
    model = gf.keras.Sequential([gf.keras.Input((4,)), L.Dense(3, activation="relu"), L.Dense(2)])
    path = tmp_path / "m.onnx"
    model.export(path, format="onnx", verbose=False)
    x = np.random.randn(3, 4).astype("float32")
    (y,), _ = run_onnx(path, x)
    np.testing.assert_allclose(y, model.predict(x, verbose=0), atol=TOLERANCE)


def test_uncovered_layers_are_named(tmp_path):
    model = gf.keras.Sequential([gf.keras.Input((4,)), L.Lambda(lambda x: x * 2, name="doubler")])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"'doubler' \(Lambda\) is not covered"):
        gf.onnx.export(model, tmp_path / "m.onnx")
    masked = gf.keras.Sequential([gf.keras.Input((5,)), L.Embedding(10, 3, mask_zero=True), L.LSTM(2)])
    with pytest.raises(gf.errors.InvalidArgumentError, match="mask_zero=True"):
        gf.onnx.export(masked, tmp_path / "m.onnx")
    custom = gf.keras.Sequential([gf.keras.Input((4,)), L.Dense(2, activation=lambda x: x * 3, name="odd")])
    with pytest.raises(gf.errors.InvalidArgumentError, match="'odd'.*activation"):
        gf.onnx.export(custom, tmp_path / "m.onnx")
    with pytest.raises(gf.errors.InvalidArgumentError, match="opset"):
        gf.onnx.export(gf.keras.Sequential([gf.keras.Input((2,)), L.Dense(1)]), tmp_path / "m.onnx", opset=9)
    assert not (tmp_path / "m.onnx").exists()
