"""The Optimizer API around the rules: identifiers, configs, learning_rate, slots, constraints, errors."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import optimizers

NAMES = {"sgd": optimizers.SGD, "adam": optimizers.Adam, "adamw": optimizers.AdamW, "rmsprop": optimizers.RMSprop,
         "adagrad": optimizers.Adagrad, "adamax": optimizers.Adamax, "nadam": optimizers.Nadam,
         "adadelta": optimizers.Adadelta, "lion": optimizers.Lion}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_get_by_name_and_config_round_trip(name):
    optimizer = optimizers.get(name)
    assert type(optimizer) is NAMES[name]
    assert type(optimizers.get(NAMES[name].__name__)) is NAMES[name]
    config = optimizer.get_config()
    again = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(again) is NAMES[name] and again.get_config() == config
    assert optimizers.get(optimizer) is optimizer
    assert type(optimizers.get({"class_name": NAMES[name].__name__, "config": {}})) is NAMES[name]


def test_keras_defaults():
    assert optimizers.SGD().learning_rate == 0.01
    adam = optimizers.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    assert optimizers.AdamW().weight_decay == 0.004
    rms = optimizers.RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    assert optimizers.Adagrad().initial_accumulator_value == 0.1


def test_unknown_identifiers_are_errors():
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="cannot interpret"):
        optimizers.get(3)


def test_learning_rate_is_settable_and_read_as_a_float():
    optimizer = optimizers.SGD(0.1)
    v = gf.Variable(np.ones(3, np.float32))
    optimizer.apply_gradients([(gf.constant(np.ones(3, np.float32)), v)])
    optimizer.learning_rate = 0.5  # what callbacks do
    assert optimizer.learning_rate == 0.5 and optimizer.lr == 0.5
    optimizer.apply_gradients([(gf.constant(np.ones(3, np.float32)), v)])
    np.testing.assert_allclose(v.numpy(), 1 - 0.1 - 0.5)
    optimizer.learning_rate = gf.constant(0.25)
    assert optimizer.learning_rate == 0.25
    with pytest.raises(ValueError, match=">= 0"):
        optimizer.learning_rate = -1.0


def test_slots_iterations_and_none_gradients():
    a, b, c = (gf.Variable(np.ones(s, np.float32), name=n) for s, n in [((2,), "a"), ((3, 2), "b"), ((1,), "c")])
    optimizer = optimizers.Adam(0.1)
    optimizer.apply_gradients([(gf.constant(np.ones(2, np.float32)), a), (None, c),
                               (gf.constant(np.ones((3, 2), np.float32)), b)])
    np.testing.assert_array_equal(c.numpy(), [1.0])  # skipped, and no slots built for it
    assert optimizer.iterations.dtype == gf.int64 and int(optimizer.iterations) == 1
    names = [v.name for v in optimizer.variables]
    assert names == ["adam/iteration", "adam/learning_rate", "adam/a_m", "adam/b_m", "adam/a_v", "adam/b_v"]
    optimizer.apply([gf.constant(np.ones(2, np.float32))], [a])
    assert int(optimizer.iterations) == 2
    optimizer.iterations.assign(gf.constant(10, dtype="int64"))  # a restore: the optimizer must notice
    optimizer.apply([gf.constant(np.ones(2, np.float32))], [a])
    assert int(optimizer.iterations) == 11


def test_all_none_gradients_do_nothing():
    v = gf.Variable(np.ones(2, np.float32))
    optimizer = optimizers.SGD(0.1)
    optimizer.apply_gradients([(None, v)])
    assert int(optimizer.iterations) == 0 and not optimizer.built


def test_constraint_is_applied_after_the_update():
    v = gf.Variable(np.array([1.0, -1.0], np.float32), constraint=lambda w: gf.maximum(w, 0.0))
    optimizers.SGD(0.5).apply_gradients([(gf.constant(np.array([-1.0, 1.0], np.float32)), v)])
    np.testing.assert_allclose(v.numpy(), [1.5, 0.0])


def test_exclude_from_weight_decay():
    kept, decayed = gf.Variable(np.ones(2), name="bias"), gf.Variable(np.ones(2), name="kernel")
    optimizer = optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    zero = gf.constant(np.zeros(2))
    optimizer.apply_gradients([(zero, kept), (zero, decayed)])
    np.testing.assert_allclose(kept.numpy(), 1.0)
    np.testing.assert_allclose(decayed.numpy(), 1 - 0.1 * 0.5)


def test_minimize_with_a_callable_loss():
    w = gf.Variable(np.array([3.0]))
    optimizer = optimizers.SGD(0.25)
    for _ in range(3):
        optimizer.minimize(lambda: gf.reduce_sum(gf.square(w)), [w])
    np.testing.assert_allclose(w.numpy(), 3.0 * 0.5 ** 3)
    with pytest.raises(ValueError, match="tape"):
        optimizer.minimize(gf.reduce_sum(w), [w])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(TypeError, match="unexpected arguments"):
        optimizers.Adam(betaa=0.9)
    with pytest.raises(ValueError, match="shape"):
        optimizers.SGD().apply_gradients([(gf.constant(np.ones(3, np.float32)), gf.Variable(np.ones(2, np.float32)))])
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        optimizers.SGD().apply([gf.constant(1.0), gf.constant(1.0)], [gf.Variable(1.0)])
