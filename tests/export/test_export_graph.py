"""The exporters' shared graph (gpuflow/_export): the walk, the folds, and the refusals. No onnx or tflite
package is needed here: these run in every install."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpuflow as gf
from gpuflow._export import keras_graph

L = gf.keras.layers
ROOT = Path(__file__).resolve().parents[2]


def _trained_bn(model, x):
    model.compile("adam", "mse")
    model.fit(x, np.random.rand(len(x), *model.output_shape[1:]).astype("float32"), epochs=2, verbose=0)


def test_batch_norm_and_relu_fold_into_the_convolution():
    model = gf.keras.Sequential([gf.keras.Input((6, 6, 2)), L.Conv2D(4, 3, padding="same"), L.BatchNormalization(),
                                 L.ReLU(), L.Flatten(), L.Dense(3)])
    x = np.random.rand(16, 6, 6, 2).astype("float32")
    _trained_bn(model, x)
    graph = keras_graph(model, "test")
    assert [op.kind for op in graph.ops] == ["conv", "reshape", "dense"]
    conv = graph.ops[0]
    assert conv.attrs["activation"] == "relu"
    # The folded kernel and bias give the BatchNorm layer's outputs (before the ReLU) on the conv's inputs.
    folded = gf.nn.conv2d(x, conv.weights["kernel"], strides=1, padding="SAME").numpy() + conv.weights["bias"]
    reference = gf.keras.Model(model.inputs, model.layers[1].output).predict(x, verbose=0)
    np.testing.assert_allclose(folded, reference, atol=1e-5)


def test_nothing_folds_across_an_activation_or_a_shared_value():
    inputs = gf.keras.Input((5,))
    hidden = L.Dense(4, activation="tanh")(inputs)
    normed = L.BatchNormalization()(hidden)
    pre = L.Dense(4)(inputs)
    model = gf.keras.Model(inputs, [normed, L.ReLU()(pre), pre])
    kinds = [op.kind for op in keras_graph(model, "test").ops]
    assert kinds.count("affine") == 1 and kinds.count("activation") == 2  # tanh, and the ReLU whose input is an output


def test_nested_models_are_inlined_and_outputs_keep_keras_names():
    inner = gf.keras.Sequential([L.Dense(3, input_shape=(4,), name="inner_dense"), L.Dropout(0.5)])
    inputs = gf.keras.Input((4,), name="features")
    model = gf.keras.Model(inputs, [inner(inputs), L.Dense(2, name="head")(inputs)])
    graph = keras_graph(model, "test")
    assert [v.name for v in graph.inputs] == ["features"]
    assert [v.name for v in graph.outputs] == model.output_names
    assert [op.kind for op in graph.ops] == ["dense", "dense"]  # Dropout makes no op


def test_refusals():
    class Subclassed(gf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)
    with pytest.raises(gf.errors.InvalidArgumentError, match="subclassed model.*functional API"):
        keras_graph(Subclassed(), "ONNX")
    with pytest.raises(gf.errors.InvalidArgumentError, match="no known input shape"):
        keras_graph(gf.keras.Sequential([L.Dense(2)]), "ONNX")
    wrapped = gf.keras.Sequential([gf.keras.Input((3, 4)), L.TimeDistributed(L.Dense(2), name="td")])
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"'td' \(TimeDistributed\) is not covered"):
        keras_graph(wrapped, "TFLite")


def test_model_export_formats_without_the_interop_packages(tmp_path):
    model = gf.keras.Sequential([gf.keras.Input((2,)), L.Dense(1)])
    model.export(tmp_path / "saved", format="tf_saved_model")  # gpuflow's own format: no interop package
    assert (tmp_path / "saved" / "saved_model.json").is_file()
    with pytest.raises(ValueError, match="format 'coreml' is not supported"):
        model.export(tmp_path / "m", format="coreml")
    with pytest.raises(NotImplementedError, match="could not restore one"):
        gf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "empty"))


def test_import_gpuflow_does_not_import_the_interop_packages():
    code = ("import sys, gpuflow as gf; gf.lite.TFLiteConverter; gf.onnx.export; "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'tflite', 'flatbuffers', 'ai_edge_litert') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("blocked, call", [
    ("onnx", "gf.onnx.export(model, 'm.onnx')"),
    ("tflite", "gf.lite.TFLiteConverter.from_keras_model(model).convert()"),
    ("ai_edge_litert", "gf.lite.Interpreter"),
])
def test_a_missing_interop_package_says_how_to_install_it(blocked, call):
    # sys.modules[name] = None makes `import name` fail, as on a machine without the package.
    code = (f"import sys; sys.modules[{blocked!r}] = None\nimport gpuflow as gf\n"
            f"model = gf.keras.Sequential([gf.keras.Input((2,)), gf.keras.layers.Dense(1)])\n"
            f"try:\n    {call}\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "gpuflow[interop]" in out.stdout, out.stdout + out.stderr
