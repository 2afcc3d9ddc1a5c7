import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras.engine.base_layer import Layer
from gpuflow.keras.engine.input_layer import Input, InputLayer

from _engine_helpers import Lin


class Conv2DThing(Layer):
    pass


def test_default_names_are_snake_case_and_counted_and_reset_by_clear_session():
    assert [Lin(1).name, Lin(1).name, Conv2DThing().name] == ["lin", "lin_1", "conv2d_thing"]
    gf.keras.backend.clear_session()
    assert Lin(1).name == "lin"


def test_unknown_kwarg_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="unitz"):
        Layer(unitz=3)


def test_builds_on_first_call_from_input_shape():
    layer = Lin(3)
    assert not layer.built and layer.weights == []
    out = layer(np.ones((2, 5), np.float32))
    assert layer.built and out.shape == (2, 3)
    assert [v.name for v in layer.weights] == ["lin/kernel:0", "lin/bias:0"]
    assert layer.count_params() == 18


def test_tracking_is_recursive_deduplicated_and_in_creation_order():
    class Block(Layer):
        def __init__(self):
            super().__init__()
            self.a = Lin(2)
            self.pair = [Lin(2), {"c": Lin(1)}]
            self.alias = self.a  # the same layer twice: its weights count once

        def call(self, x):
            return self.pair[1]["c"](self.pair[0](self.a(x)))
    block = Block()
    block(np.ones((1, 3), np.float32))
    assert [v.name for v in block.weights] == ["lin/kernel:0", "lin/bias:0", "lin_1/kernel:0", "lin_1/bias:0",
                                               "lin_2/kernel:0", "lin_2/bias:0"]
    assert block.count_params() == 3 * 2 + 2 + 2 * 2 + 2 + 2 + 1
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 6
    assert not block.a.trainable
    block.trainable = True
    block.pair[0].trainable = False
    assert [v.name for v in block.non_trainable_variables] == ["lin_1/kernel:0", "lin_1/bias:0"]


def test_training_flag_reaches_sublayers_and_defaults_to_false():
    seen = []

    class Probe(Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x):  # no training argument: the inner layer still sees the outer call's flag
            return self.probe(x)
    outer, x = Outer(), np.ones((1, 2), np.float32)
    outer(x, training=True)
    outer(x)
    outer.probe(x, training=True)
    assert seen == [True, False, True]


def test_add_weight_regularizer_and_add_loss_show_in_losses():
    class Reg(Layer):
        def build(self, shape):
            self.w = self.add_weight("w", (2,), initializer="ones", regularizer=gf.keras.regularizers.L2(0.5))

        def call(self, x):
            self.add_loss(gf.reduce_sum(x))
            return x * self.w
    layer = Reg()
    layer(np.full((1, 2), 3.0, np.float32))
    assert sorted(float(v) for v in layer.losses) == [1.0, 6.0]  # 0.5 * (1 + 1); 3 + 3
    layer(np.ones((1, 2), np.float32))
    assert sorted(float(v) for v in layer.losses) == [1.0, 2.0]  # add_loss values from the last call only


def test_get_set_weights_check_shapes():
    layer = Lin(2)
    layer(np.ones((1, 3), np.float32))
    w = [np.full((3, 2), 2.0, np.float32), np.zeros(2, np.float32)]
    layer.set_weights(w)
    np.testing.assert_array_equal(layer.get_weights()[0], w[0])
    with pytest.raises(ValueError, match=r"lin/kernel:0: expects shape \(3, 2\), got \(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(ValueError, match="has 2 weights"):
        layer.set_weights([np.zeros((3, 2))])


def test_symbolic_call_gives_keras_tensor_with_unknown_batch_and_shapes():
    x = Input(shape=(4,), name="x")
    assert tuple(x.shape) == (None, 4) and x.dtype == gf.float32
    layer = Lin(3)
    y = layer(x)
    assert tuple(y.shape) == (None, 3) and layer.built
    assert tuple(layer.input_shape) == (None, 4) and tuple(layer.output_shape) == (None, 3)
    assert tuple(layer.compute_output_shape((None, 7, 4))) == (None, 7, 3)
    assert isinstance(x.node.layer, InputLayer)


def test_symbolic_call_keeps_variables_unchanged():
    class Counter(Layer):
        def build(self, shape):
            self.n = self.add_weight("n", (), initializer="zeros", trainable=False)

        def call(self, x):
            self.n.assign_add(1.0)
            return x
    layer = Counter()
    layer(Input((2,)))
    assert float(layer.n) == 0.0


def test_config_round_trip():
    layer = Lin(4, name="head", trainable=False)
    clone = Lin.from_config(layer.get_config())
    assert (clone.name, clone.units, clone.trainable, clone.dtype) == ("head", 4, False, "float32")


def test_a_shared_layer_keeps_add_loss_values_from_every_call_of_one_outer_call():
    class Penalty(Layer):
        def call(self, x):
            self.add_loss(gf.reduce_sum(x))
            return x

    class Twice(Layer):
        def __init__(self):
            super().__init__()
            self.penalty = Penalty()

        def call(self, x):
            return self.penalty(self.penalty(x) * 2.0)
    twice = Twice()
    twice(np.ones((1, 2), np.float32))
    assert sorted(float(v) for v in twice.losses) == [2.0, 4.0]
    twice(np.zeros((1, 2), np.float32))
    assert [float(v) for v in twice.losses] == [0.0, 0.0]
