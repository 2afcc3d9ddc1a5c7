"""clone_model: functional Model subclasses stay subclasses, clone_function and input_tensors (Keras semantics)."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import layers
from gpuflow.keras.models import Functional, Model, Sequential, clone_model


def _x(*shape):
    return np.random.default_rng(0).normal(size=shape).astype(np.float32)


class CountingModel(Model):
    """A Model subclass built functionally (tf.keras' "customizing fit()" pattern) with its own train_step."""
    steps = 0

    def train_step(self, data):
        CountingModel.steps += 1  # on the user class: type(self) is its functional copy
        return super().train_step(data)


class OwnArgsModel(Model):
    """A functional subclass whose constructor takes its own arguments: Keras clones it as a plain Functional."""

    def __init__(self, units, **kwargs):
        inputs = gf.keras.Input((3,))
        super().__init__(inputs, layers.Dense(units)(inputs), **kwargs)


def _functional(cls=Model):
    inputs = gf.keras.Input((3,), name="x")
    hidden = layers.Dense(4, activation="relu", name="hidden")(inputs)
    return cls(inputs, layers.Dense(2, name="head")(hidden), name="net")


def test_functional_subclass_stays_its_class_and_runs_its_train_step():
    model = _functional(CountingModel)
    clone = clone_model(model)
    assert isinstance(clone, CountingModel) and isinstance(clone, Functional)
    assert type(clone) is type(model) and clone.name == "net"
    assert [layer.name for layer in clone.layers] == ["x", "hidden", "head"]
    assert not np.array_equal(clone.get_layer("hidden").kernel.numpy(), model.get_layer("hidden").kernel.numpy())
    clone.compile("sgd", "mse", run_eagerly=True)  # counts Python calls of train_step: eager steps
    before = CountingModel.steps
    clone.fit(_x(8, 3), _x(8, 2), batch_size=4, epochs=1, verbose=0)
    assert CountingModel.steps == before + 2


def test_plain_functional_stays_plain_and_computes_like_the_original_with_its_weights():
    model = _functional()
    clone = clone_model(model)
    assert type(clone) is Functional
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(_x(5, 3), verbose=0), model.predict(_x(5, 3), verbose=0), rtol=1e-6)


def test_subclass_with_its_own_constructor_arguments_clones_as_functional():
    clone = clone_model(OwnArgsModel(5))
    assert type(clone) is Functional and tuple(clone.output_shape) == (None, 5)


def test_clone_function_makes_each_layer():
    model = _functional()
    seen = []

    def widen_hidden(layer):
        seen.append(layer.name)
        config = layer.get_config()
        if layer.name == "hidden":
            config["units"] = 7
        return type(layer).from_config(config)
    clone = clone_model(model, clone_function=widen_hidden)
    assert seen == ["hidden", "head"]  # Input layers are made anew, not passed to clone_function (as in Keras)
    assert clone.get_layer("hidden").kernel.shape == (3, 7) and clone.get_layer("head").kernel.shape == (7, 2)


def test_clone_function_returning_the_layer_shares_its_weights():
    model = _functional(CountingModel)
    clone = clone_model(model, clone_function=lambda layer: layer)
    assert isinstance(clone, CountingModel)
    assert clone.get_layer("hidden") is model.get_layer("hidden")
    np.testing.assert_array_equal(clone.predict(_x(4, 3), verbose=0), model.predict(_x(4, 3), verbose=0))


def test_clone_function_must_be_callable():
    with pytest.raises(TypeError, match="clone_function must be callable"):
        clone_model(_functional(), clone_function="dense")


def test_a_shared_layer_is_cloned_once():
    a, b = gf.keras.Input((3,), name="a"), gf.keras.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = Model([a, b], layers.Add()([shared(a), shared(b)]))
    calls = []
    clone = clone_model(model, clone_function=lambda layer: calls.append(layer.name) or
                        type(layer).from_config(layer.get_config()))
    assert calls.count("shared") == 1
    assert [layer.name for layer in clone.layers].count("shared") == 1
    clone.set_weights(model.get_weights())
    x1, x2 = _x(2, 3), _x(2, 3) + 1
    np.testing.assert_allclose(clone.predict([x1, x2], verbose=0), model.predict([x1, x2], verbose=0), rtol=1e-6)


def test_input_tensors_for_a_functional_model():
    model = _functional(CountingModel)
    new_input = gf.keras.Input((3,), name="fresh")
    clone = clone_model(model, input_tensors=[new_input])
    assert clone.inputs[0] is new_input and isinstance(clone, CountingModel)
    assert clone.input_names == ["fresh"]
    with pytest.raises(ValueError, match="has 1 input\\(s\\), but input_tensors holds 2"):
        clone_model(model, input_tensors=[gf.keras.Input((3,)), gf.keras.Input((3,))])
    with pytest.raises(ValueError, match="must be gf.keras.Input tensors"):
        clone_model(model, input_tensors=layers.Dense(3)(gf.keras.Input((3,))))


def test_sequential_clone_with_clone_function_and_input_tensors():
    model = Sequential([layers.Dense(4, input_shape=(3,), name="d1"), layers.Dense(1, name="d2")])
    start = gf.keras.Input((3,), name="start")
    names = []
    clone = clone_model(model, input_tensors=start,
                        clone_function=lambda layer: names.append(layer.name) or type(layer).from_config(
                            layer.get_config()))
    assert names == ["d1", "d2"] and type(clone) is Sequential
    assert [layer.name for layer in clone.layers] == ["d1", "d2"] and tuple(clone.output_shape) == (None, 1)
    with pytest.raises(ValueError, match="Sequential model has 1 input"):
        clone_model(model, input_tensors=[start, gf.keras.Input((3,))])


def test_unbuilt_sequential_clones_unbuilt():
    clone = clone_model(Sequential([layers.Dense(2)]))
    assert not clone.built
    assert clone(_x(3, 5)).shape == (3, 2)


def test_trainable_false_is_kept():
    model = _functional()
    model.trainable = False
    clone = clone_model(model)
    assert not clone.trainable and not clone.trainable_weights


def test_subclassed_model_still_raises():
    class Sub(Model):
        def call(self, x):
            return x
    with pytest.raises(ValueError, match="Sub is a subclassed model"):
        clone_model(Sub())


class Doubler(gf.keras.layers.Layer):
    """An unregistered custom layer, to be cloned from inside a wrapper's config."""

    def call(self, inputs):
        return inputs * 2.0


def test_custom_layer_inside_a_wrapper_clones_without_registration():
    inputs = gf.keras.Input((4, 3))
    model = Model(inputs, layers.TimeDistributed(Doubler(name="double"))(inputs))
    clone = clone_model(model)
    assert type(clone.layers[1].layer) is Doubler
    np.testing.assert_array_equal(clone.predict(np.ones((1, 4, 3), np.float32), verbose=0), 2.0)
