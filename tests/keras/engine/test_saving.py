import numpy as np
import pytest
from safetensors.numpy import load_file

import gpuflow as gf

from gpuflow.keras.engine.base_layer import Layer
from gpuflow.keras.models import Sequential

from _engine_helpers import Lin


def _model(units=(4, 2)):
    return Sequential([Lin(units[0], input_shape=(3,))] + [Lin(u) for u in units[1:]])


@pytest.mark.parametrize("filename", ["model.weights.h5", "model.safetensors"])
def test_save_load_round_trip_is_safetensors_keyed_by_weight_path(tmp_path, filename):
    model, other = _model(), _model()
    path = tmp_path / filename
    model.save_weights(path)
    assert sorted(load_file(str(path))) == ["lin/bias", "lin/kernel", "lin_1/bias", "lin_1/kernel"]
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == [filename]  # the temporary file was renamed away


def test_nested_layers_get_nested_paths(tmp_path):
    class Block(Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = Lin(2, name="inner")

        def call(self, x):
            return self.inner(x)
    gf.keras.backend.clear_session()
    Lin(1)  # takes the global name `lin`: paths number layers within their parent, not globally
    model = Sequential([Block(name="block", input_shape=(3,))])
    model.save_weights(tmp_path / "w.safetensors")
    assert sorted(load_file(str(tmp_path / "w.safetensors"))) == ["block/lin/bias", "block/lin/kernel"]


def test_mismatch_lists_every_difference(tmp_path):
    _model((4, 2)).save_weights(tmp_path / "a.weights.h5")
    model = _model((4, 5, 1))
    with pytest.raises(ValueError) as info:
        model.load_weights(tmp_path / "a.weights.h5")
    text = str(info.value)
    assert "4 difference(s)" in text
    assert "shape mismatch for lin_1/kernel: the model has (4, 5), the file has (4, 2)" in text
    assert "shape mismatch for lin_1/bias" in text
    assert "missing from the file: lin_2/kernel" in text and "missing from the file: lin_2/bias" in text
    before = model.get_weights()
    model.load_weights(tmp_path / "a.weights.h5", skip_mismatch=True)  # loads what matches: the first layer
    np.testing.assert_array_equal(model.get_weights()[0], load_file(str(tmp_path / "a.weights.h5"))["lin/kernel"])
    np.testing.assert_array_equal(model.get_weights()[2], before[2])


def test_extra_weights_in_file_are_named(tmp_path):
    _model((4, 2)).save_weights(tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="not in the model: lin_1/kernel"):
        _model((4,)).load_weights(tmp_path / "a.safetensors")


def test_bad_suffix_and_unbuilt_model_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=".weights.h5 or .safetensors"):
        _model().save_weights(tmp_path / "w.pkl")
    with pytest.raises(ValueError, match="has no weights yet"):
        Sequential([Lin(2)]).save_weights(tmp_path / "w.safetensors")
