"""gf.saved_model.save / load: traced signatures that serve any batch size, in this process and in a fresh one
that never imports the model's classes; gf.function objects with state, control flow and several signatures;
what saving refuses."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gpuflow as gf
from example_models import build, predict
from child_process import env_with_gpuflow


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "subclassed"])
def test_keras_models_round_trip(name, device, tmp_path):
    with gf.device(device):
        model, x = build(name)
        gf.saved_model.save(model, tmp_path / "m")
        loaded = gf.saved_model.load(tmp_path / "m")
        serve = loaded.signatures["serving_default"]
        (input_name, spec), = serve.inputs
        assert spec.shape[0] is None, "a Keras model's serving signature takes any batch size"
        for batch in (1, 7):
            (out,) = serve(**{input_name: x[:batch]}).values()
            assert out.device.startswith(device)
            np.testing.assert_allclose(out.numpy(), predict(model, x[:batch]), rtol=0, atol=1e-6)


def test_fresh_process_without_the_model_class(tmp_path):
    """The custom training loop's subclassed model, served where its class was never imported."""
    with gf.device("cpu"):
        model, x = build("subclassed")
        gf.saved_model.save(model, tmp_path / "m")
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "expected.npy", predict(model, x))
    code = f"""
import sys, numpy as np, gpuflow as gf
with gf.device("cpu"):
    serve = gf.saved_model.load({str(tmp_path / "m")!r}).signatures["serving_default"]
    (name, _), = serve.inputs
    (out,) = serve(**{{name: np.load({str(tmp_path / "x.npy")!r})}}).values()
assert not any("custom_training_loop" in m for m in sys.modules), "the model's module was imported"
print(float(np.abs(out.numpy() - np.load({str(tmp_path / "expected.npy")!r})).max()))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_with_gpuflow(),
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[-1]) <= 1e-6


class Scaler:
    """A tf.Module-style object: state, control flow, a dict output and named inputs."""

    def __init__(self):
        self.scale = gf.Variable(np.array([1.0, 2.0, 3.0], "float32"), name="scale")
        self.calls = gf.Variable(0, name="calls")

    @gf.function(input_signature=[gf.TensorSpec((None, 3), "float32", name="features")])
    def apply(self, x):
        self.calls.assign_add(1)
        y = x * self.scale
        flipped = gf.cond(gf.reduce_sum(y) > 0, lambda: y * 2.0, lambda: -y)
        _, steps = gf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a + 0.5),
                                 [gf.constant(0), gf.constant(np.float32(0))])
        return {"flipped": flipped, "steps": steps + gf.constant(np.float32(np.inf)) * 0.0,
                "calls": self.calls.read_value()}


def test_function_object_with_state_and_control_flow(tmp_path):
    with gf.device("cpu"):
        obj = Scaler()
        obj.apply(np.ones((1, 3), "float32"))
        gf.saved_model.save(obj, tmp_path / "m")
        serve = gf.saved_model.load(tmp_path / "m").signatures["serving_default"]
        assert [n for n, _ in serve.inputs] == ["features"]
        out = serve(features=np.ones((2, 3), "float32"))
        np.testing.assert_array_equal(out["flipped"].numpy(), [[2, 4, 6]] * 2)
        assert np.isnan(out["steps"].numpy())  # inf * 0: the NaN of a captured constant survives the JSON
        assert int(out["calls"].numpy()) == 2  # saved after one call, then called once more
        out = serve(features=-np.ones((1, 3), "float32"))
        np.testing.assert_array_equal(out["flipped"].numpy(), [[1, 2, 3]])
        assert int(out["calls"].numpy()) == 3


def test_several_signatures_and_how_they_are_called(tmp_path):
    with gf.device("cpu"):
        w = gf.Variable(np.arange(6, dtype="float32").reshape(3, 2), name="w")
        project = gf.function(lambda x: gf.matmul(x, w), input_signature=[gf.TensorSpec((None, 3), "float32")])
        count = gf.function(lambda ids: gf.reduce_sum(gf.cast(ids > 2, "int32")),
                            input_signature=[gf.TensorSpec((None,), "int32")])
        gf.saved_model.save(None, tmp_path / "m", signatures={"project": project, "count": count})
        loaded = gf.saved_model.load(tmp_path / "m")
        assert sorted(loaded.signatures) == ["count", "project"]
        assert [v.name for v in loaded.variables] == ["w"]
        out = loaded.signatures["project"](x=[[1.0, 0.0, 0.0]])
        np.testing.assert_array_equal(out["output_0"].numpy(), [[0.0, 1.0]])
        assert int(loaded.signatures["count"](ids=np.array([1, 3, 5], "int32"))["output_0"].numpy()) == 2
        project_fn = loaded.signatures["project"]
        with pytest.raises(TypeError, match="by name only"):
            project_fn(np.zeros((1, 3), "float32"))
        with pytest.raises(TypeError, match="missing"):
            project_fn()
        with pytest.raises(gf.errors.InvalidArgumentError, match=r"shape \[1, 4\]"):
            project_fn(x=np.zeros((1, 4), "float32"))
        with pytest.raises(gf.errors.InvalidArgumentError, match="fractions"):
            loaded.signatures["count"](ids=[1.5])


def test_assets_are_copied_and_listed(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a\nb\n")
    with gf.device("cpu"):
        obj = Scaler()
        obj.vocabulary = gf.saved_model.Asset(vocab)
        gf.saved_model.save(obj, tmp_path / "m")
        loaded = gf.saved_model.load(tmp_path / "m")
    assert open(loaded.assets["vocab.txt"]).read() == "a\nb\n"
    assert os.path.dirname(loaded.assets["vocab.txt"]) == str(tmp_path / "m" / "assets")


def test_saving_over_a_directory_replaces_it_whole(tmp_path):
    with gf.device("cpu"):
        obj = Scaler()
        gf.saved_model.save(obj, tmp_path / "m")
        (tmp_path / "m" / "stale.txt").write_text("from before")
        obj.scale.assign(np.zeros(3, "float32"))
        gf.saved_model.save(obj, tmp_path / "m")
        out = gf.saved_model.load(tmp_path / "m").signatures["serving_default"](features=np.ones((1, 3), "float32"))
    np.testing.assert_array_equal(out["flipped"].numpy(), [[0, 0, 0]])
    assert sorted(os.listdir(tmp_path)) == ["m"] and not (tmp_path / "m" / "stale.txt").exists()
    manifest = json.loads((tmp_path / "m" / "saved_model.json").read_text())
    assert manifest["format"] == "gpuflow.saved_model" and manifest["gpuflow_version"] == gf.__version__


def test_saving_refuses_what_a_graph_cannot_hold(tmp_path):
    with gf.device("cpu"):
        v, optimizer = gf.Variable([1.0, 2.0]), gf.keras.optimizers.Adam()  # its learning rate is host-fed
        train_step = gf.function(lambda g: optimizer.apply_gradients([(g, v)]),
                                 input_signature=[gf.TensorSpec((2,), "float32")])
        with pytest.raises(ValueError, match="host value on every call"):
            gf.saved_model.save(None, tmp_path / "a", signatures=train_step)
        with pytest.raises(ValueError, match="without an input_signature"):
            gf.saved_model.save(None, tmp_path / "b", signatures=gf.function(lambda x: x))
        with pytest.raises(ValueError, match="has not been built"):
            gf.saved_model.save(gf.keras.Sequential([gf.keras.layers.Dense(2)]), tmp_path / "c")
    assert not os.listdir(tmp_path), "a refused save leaves nothing behind"
