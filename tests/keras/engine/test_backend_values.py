"""gf.keras.backend.get_value / set_value, as tf.keras callbacks use them."""
import numpy as np
import pytest

import gpuflow as gf


def test_get_and_set_value_of_a_variable():
    v = gf.Variable([1.0, 2.0])
    gf.keras.backend.set_value(v, [3.0, 4.0])
    np.testing.assert_array_equal(gf.keras.backend.get_value(v), [3.0, 4.0])


def test_learning_rate_is_a_variable_that_get_and_set_value_work_on():
    opt = gf.keras.optimizers.SGD(0.1)
    assert gf.keras.backend.get_value(opt.learning_rate) == pytest.approx(0.1)
    gf.keras.backend.set_value(opt.learning_rate, 0.5)
    assert gf.keras.backend.get_value(opt.lr) == pytest.approx(0.5)


def test_set_value_on_a_scheduled_rate_says_how_to_change_it():
    opt = gf.keras.optimizers.SGD(gf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="set_value needs a gf.Variable.*schedule"):
        gf.keras.backend.set_value(opt.learning_rate, 0.5)
