"""Keras models as SavedModel directories: model.save(dir) / load_model(dir) (TF2 Keras), model.export(dir)
(Keras 3), and the names a functional model's serving signature takes."""
import logging

import numpy as np
import pytest

import gpuflow as gf
from example_models import build, predict

keras = gf.keras


def test_save_to_a_directory_and_load_a_trainable_model(tmp_path):
    with gf.device("cpu"):
        model, x = build("lstm")  # no dropout: training on goes the same way in both
        model.save(tmp_path / "saved_model" / "mnist")   # the seeds' call: no extension, a SavedModel
        assert gf.saved_model.contains_saved_model(tmp_path / "saved_model" / "mnist")
        restored = keras.models.load_model(tmp_path / "saved_model" / "mnist")
        np.testing.assert_allclose(predict(restored, x), predict(model, x), atol=1e-6)
        assert int(restored.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) > 0
        y = np.arange(len(x)) % 10
        model.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
        restored.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
        np.testing.assert_allclose(predict(restored, x), predict(model, x), atol=1e-5)  # same optimizer state


def test_save_format_tf_and_save_model(tmp_path):
    with gf.device("cpu"):
        model, x = build("mlp")
        keras.models.save_model(model, tmp_path / "m.tf", save_format="tf", include_optimizer=False)
        restored = keras.models.load_model(tmp_path / "m.tf")
        assert not restored.optimizer.built
        with pytest.raises(FileExistsError):
            model.save(tmp_path / "m.tf", overwrite=False, save_format="tf")
        np.testing.assert_allclose(predict(restored, x), predict(model, x), atol=1e-6)


def test_export_and_its_input_signature(tmp_path, capsys):
    with gf.device("cpu"):
        model, x = build("cnn")
        model.export(tmp_path / "any")
        assert "Saved artifact" in capsys.readouterr().out
        assert gf.saved_model.load(tmp_path / "any").signatures["serving_default"].inputs[0][1].shape[0] is None
        model.export(tmp_path / "fixed", verbose=False, input_signature=[gf.TensorSpec((4, 8, 8, 1), "float32")])
        serve = gf.saved_model.load(tmp_path / "fixed").signatures["serving_default"]
        (name, spec), = serve.inputs
        assert list(spec.shape) == [4, 8, 8, 1] and name == model.inputs[0].name
        (out,) = serve(**{name: x[:4]}).values()
        np.testing.assert_allclose(out.numpy(), predict(model, x[:4]), atol=1e-6)
        with pytest.raises(ValueError, match="format 'coreml' is not supported"):
            model.export(tmp_path / "t", format="coreml")


def test_functional_signature_names(tmp_path):
    with gf.device("cpu"):
        a, b = keras.Input((3,), name="age"), keras.Input((2,), name="income")
        joined = keras.layers.Concatenate()([a, b])
        model = keras.Model([a, b], [keras.layers.Dense(1, name="score")(joined),
                                     keras.layers.Dense(2, name="logits")(joined)])
        model.save(tmp_path / "m")
        serve = gf.saved_model.load(tmp_path / "m").signatures["serving_default"]
        assert [n for n, _ in serve.inputs] == ["age", "income"]
        assert [n for n, _ in serve.outputs] == ["score", "logits"]
        xa, xb = np.ones((2, 3), "float32"), np.ones((2, 2), "float32")
        out = serve(age=xa, income=xb)
        expected = model.predict([xa, xb], verbose=0)
        np.testing.assert_allclose(out["logits"].numpy(), expected[1], atol=1e-6)


def test_load_model_of_a_saved_model_without_keras_config(tmp_path):
    with gf.device("cpu"):
        f = gf.function(lambda x: x * 2.0, input_signature=[gf.TensorSpec((None,), "float32")])
        gf.saved_model.save(None, tmp_path / "m", signatures=f)
        with pytest.raises(ValueError, match="without a Keras model config"):
            keras.models.load_model(tmp_path / "m")


def test_a_model_without_a_complete_config_still_serves(tmp_path, caplog):
    class Scaled(keras.Model):  # takes an argument its (inherited) get_config does not return
        def __init__(self, factor):
            super().__init__()
            self.factor, self.dense = factor, keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x) * self.factor

    logger = logging.getLogger("gpuflow")  # it does not propagate: listen on it directly
    with gf.device("cpu"):
        model = Scaled(3.0)
        x = np.ones((2, 4), "float32")
        model(x)
        logger.addHandler(caplog.handler)
        try:
            model.save(tmp_path / "m")
        finally:
            logger.removeHandler(caplog.handler)
        (out,) = gf.saved_model.load(tmp_path / "m").signatures["serving_default"](x=x).values()
        np.testing.assert_allclose(out.numpy(), model(x).numpy(), atol=1e-6)
        with pytest.raises(ValueError, match="without a Keras model config"):
            keras.models.load_model(tmp_path / "m")
    assert "saved without its Keras config" in caplog.text
