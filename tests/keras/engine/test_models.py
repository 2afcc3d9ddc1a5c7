import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras.engine.input_layer import Input
from gpuflow.keras.models import Model, Sequential, clone_model

from _engine_helpers import Lin


def _x(*shape):
    return np.random.default_rng(0).normal(size=shape).astype(np.float32)


def test_sequential_built_from_first_layer_input_shape():
    model = Sequential([Lin(128, input_shape=(784,)), Lin(10)])
    assert model.built and tuple(model.output_shape) == (None, 10)
    assert model.count_params() == 101_770
    assert model(_x(2, 784)).shape == (2, 10)


def test_sequential_lazy_build_add_and_pop():
    model = Sequential()
    model.add(Lin(4))
    model.add(Lin(2))
    assert not model.built
    assert model(_x(3, 5)).shape == (3, 2)
    assert tuple(model.input_shape) == (None, 5) and tuple(model.output_shape) == (None, 2)
    popped = model.pop()
    assert popped.name == "lin_1" and tuple(model.output_shape) == (None, 4)
    assert [layer.name for layer in model.layers] == ["lin"]
    assert model.get_layer("lin") is model.get_layer(index=0)
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")


def test_sequential_from_input_and_duplicate_names_rejected():
    model = Sequential([Input((3,)), Lin(2, name="a")])
    assert tuple(model.output_shape) == (None, 2)
    with pytest.raises(ValueError, match="already has a layer named 'a'"):
        model.add(Lin(2, name="a"))


def test_functional_multi_input_multi_output_dict_and_shared_layer():
    a, b = Input((3,), name="a"), Input((3,), name="b")
    shared = Lin(4, name="shared")
    ha, hb = shared(a), shared(b)
    out = {"sum": Lin(1, name="sum")(ha), "other": Lin(2, name="other")(hb)}
    model = Model(inputs={"a": a, "b": b}, outputs=out)
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "other", "sum"]  # dict outputs walk in key order
    assert len(model.weights) == 6  # the shared layer's weights count once
    xa, xb = _x(2, 3), _x(2, 3) + 1
    res = model({"a": xa, "b": xb})
    assert set(res) == {"sum", "other"} and res["sum"].shape == (2, 1) and res["other"].shape == (2, 2)
    expected = (xb @ shared.kernel.numpy() + shared.bias.numpy()) @ model.get_layer("other").kernel.numpy()
    np.testing.assert_allclose(res["other"].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_functional_list_inputs_and_disconnected_graph_error():
    a, b = Input((2,), name="a"), Input((2,), name="b")
    model = Model([a, b], [Lin(1)(a), Lin(1)(b)])
    outs = model([_x(4, 2), _x(4, 2)])
    assert isinstance(outs, list) and [o.shape for o in outs] == [(4, 1), (4, 1)]
    with pytest.raises(ValueError, match="Graph disconnected.*'b'"):
        Model(a, Lin(1)(b))
    with pytest.raises(ValueError, match="input 'a' expects shape"):
        model([_x(4, 3), _x(4, 2)])


def test_subclassed_model_tracks_layers_and_passes_training():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = Lin(8)
            self.out = Lin(1)
            self.flags = []

        def call(self, x, training=None):
            self.flags.append(training)
            return self.out(gf.relu(self.hidden(x)))
    net = Net()
    assert net.name == "net"
    assert net(_x(5, 3), training=True).shape == (5, 1)
    net(_x(5, 3))
    assert net.flags == [True, False]
    assert [layer.name for layer in net.layers] == ["lin", "lin_1"] and net.count_params() == 3 * 8 + 8 + 8 + 1


def test_summary_table_lists_layers_shapes_and_exact_param_counts():
    model = Sequential([Lin(128, input_shape=(784,), name="dense"), Lin(10, name="dense_1")], name="mnist")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "mnist"'
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    row = next(line for line in lines if line.startswith("dense (Lin)"))
    assert "(None, 128)" in row and row.endswith("100,480")
    assert "Total params: 101,770 (397.54 KB)" in text
    assert "Trainable params: 101,770" in text and "Non-trainable params: 0" in text
    model.get_layer("dense_1").trainable = False
    lines.clear()
    model.summary(print_fn=lines.append)
    assert "Non-trainable params: 1,290 (5.04 KB)" in "\n".join(lines)


def test_summary_of_unbuilt_model_says_what_to_do():
    with pytest.raises(ValueError, match="has not been built"):
        Sequential([Lin(2)]).summary()


def test_sequential_config_round_trip():
    model = Sequential([Lin(5, input_shape=(3,)), Lin(2)], name="seq")
    config = model.get_config()
    clone = Sequential.from_config(config, custom_objects={"Lin": Lin})
    assert clone.name == "seq" and [layer.units for layer in clone.layers] == [5, 2]
    assert tuple(clone.output_shape) == (None, 2) and clone.count_params() == model.count_params()


def test_functional_config_round_trip_with_shared_layer():
    a = Input((3,), name="a")
    shared = Lin(3, name="shared")
    out = Lin(1, name="head")(shared(shared(a)))
    model = Model(a, out, name="twice")
    config = model.get_config()
    clone = Model.from_config(config, custom_objects={"Lin": Lin})
    assert clone.name == "twice" and [layer.name for layer in clone.layers] == ["a", "shared", "head"]
    clone.set_weights(model.get_weights())
    x = _x(4, 3)
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_unknown_class_in_config_names_custom_objects():
    config = Sequential([Lin(2, input_shape=(3,))]).get_config()
    with pytest.raises(ValueError, match="custom_objects"):
        Sequential.from_config(config)


def test_lambda_layers_are_never_serialised():
    class Lambda(Lin):
        pass
    with pytest.raises(ValueError, match="Lambda layer"):
        Sequential([Lambda(2, input_shape=(3,))]).get_config()


def test_clone_model_has_same_architecture_and_fresh_weights():
    model = Sequential([Lin(4, input_shape=(3,)), Lin(1)])
    clone = clone_model(model)
    assert [type(layer) for layer in clone.layers] == [Lin, Lin] and tuple(clone.output_shape) == (None, 1)
    assert clone.count_params() == model.count_params()
    assert not np.array_equal(clone.layers[0].kernel.numpy(), model.layers[0].kernel.numpy())


def test_arithmetic_on_keras_tensors_makes_op_layers_that_round_trip():
    a = Input((2,), name="a")
    h = Lin(2, name="h")(a)
    out = -(2.0 * h + a) / 4.0
    model = Model(a, abs(out) ** 2)
    assert [type(layer).__name__ for layer in model.layers].count("OpLayer") == 6  # *, +, -, /, abs, **
    x = _x(3, 2)
    hx = x @ model.get_layer("h").kernel.numpy()
    np.testing.assert_allclose(model(x).numpy(), (-(2 * hx + x) / 4) ** 2, rtol=1e-5, atol=1e-6)
    clone = Model.from_config(model.get_config(), custom_objects={"Lin": Lin})
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="cannot be indexed"):
        a[:, 0]
