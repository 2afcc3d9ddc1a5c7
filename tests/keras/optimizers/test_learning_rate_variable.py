"""`optimizer.learning_rate` as Keras 3 has it: a float32 Variable every tf.keras idiom can read and set,
mirrored on the host so the steady training path never reads it from the device."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import backend as K
from gpuflow.keras import optimizers
from gpuflow.keras.optimizers import schedules
from gpuflow.tensor import Tensor
from harness import rand


def _sgd_step_checks(opt, rate):
    """One update with a fresh parameter: it must be p - rate * g, computed in float64."""
    p, g = rand((5, 3), "float64", seed=1), rand((5, 3), "float64", seed=2)
    v = gf.Variable(p.astype(np.float32))
    opt.apply_gradients([(gf.constant(g.astype(np.float32)), v)])
    expected = p.astype(np.float32).astype(np.float64) - rate * g.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(v.numpy(), expected, rtol=1e-6, atol=1e-7)


SETTERS = {
    "assign": lambda opt, x: opt.learning_rate.assign(x),
    "lr.assign": lambda opt, x: opt.lr.assign(x),
    "set_value": lambda opt, x: K.set_value(opt.learning_rate, x),
    "set_value_lr": lambda opt, x: K.set_value(opt.lr, x),
    "property": lambda opt, x: setattr(opt, "learning_rate", x),
    "lr_property": lambda opt, x: setattr(opt, "lr", x),
    "tensor": lambda opt, x: setattr(opt, "learning_rate", gf.constant(x)),
}


@pytest.mark.parametrize("how", sorted(SETTERS))
def test_every_way_of_setting_the_rate_changes_the_next_update(device, how):
    opt = optimizers.SGD(0.1)
    _sgd_step_checks(opt, 0.1)
    SETTERS[how](opt, 0.0125)
    _sgd_step_checks(opt, 0.0125)  # exactly representable in float32, so every path gives the same step
    SETTERS[how](opt, 0.3)
    _sgd_step_checks(opt, float(np.float32(0.3)) if "assign" in how or "set_value" in how else 0.3)
    assert int(opt.iterations) == 3


def test_every_way_of_reading_the_rate(device):
    opt = optimizers.Adam(learning_rate=0.25)
    lr = opt.learning_rate
    assert isinstance(lr, gf.Variable) and opt.lr is lr
    assert lr.dtype == gf.float32 and lr.shape == () and not lr.trainable and lr.device == f"{device}:0"
    assert float(lr) == 0.25 and lr.numpy() == np.float32(0.25) and K.get_value(opt.lr) == np.float32(0.25)
    assert bool(opt.learning_rate == 0.25)
    assert opt.learning_rate is lr  # reading never makes a new variable


def test_variables_list_the_rate_after_iterations_as_keras_3_does():
    a = gf.Variable(np.ones(2, np.float32), name="a")
    opt = optimizers.SGD(0.1, momentum=0.9)
    opt.apply_gradients([(gf.constant(np.ones(2, np.float32)), a)])
    assert [v.name for v in opt.variables] == ["SGD/iteration", "SGD/learning_rate", "SGD/a_momentum"]
    assert opt.variables[1] is opt.learning_rate
    # A restore assigns every variable; the optimizer must follow the restored rate.
    for var, value in zip(opt.variables, [np.int64(7), np.float32(0.5), np.zeros(2, np.float32)]):
        var.assign(value)
    before = a.numpy()
    opt.apply_gradients([(gf.constant(np.ones(2, np.float32)), a)])
    np.testing.assert_allclose(a.numpy(), before - 0.5)
    assert int(opt.iterations) == 8


def test_no_device_read_per_step_on_the_steady_path(monkeypatch):
    opt = optimizers.Adam(0.01)
    v = gf.Variable(np.ones(4, np.float32))
    watched = {id(opt.learning_rate): "learning_rate", id(opt.iterations): "iterations"}
    reads = []
    numpy = Tensor.numpy

    def counting_numpy(self):
        if id(self) in watched:
            reads.append(watched[id(self)])
        return numpy(self)
    monkeypatch.setattr(Tensor, "numpy", counting_numpy)
    g = gf.constant(np.ones(4, np.float32))
    for _ in range(5):
        opt.apply_gradients([(g, v)])
    opt.learning_rate = 0.001  # through the optimizer: remembered as written
    for _ in range(5):
        opt.apply_gradients([(g, v)])
    assert reads == []
    opt.learning_rate.assign(0.002)  # from outside: read back once, then remembered
    opt.iterations.assign(np.int64(100))
    for _ in range(5):
        opt.apply_gradients([(g, v)])
    assert sorted(reads) == ["iterations", "learning_rate"]
    assert opt._current_learning_rate() == pytest.approx(0.002) and int(opt.iterations) == 105


def test_fit_with_lr_callbacks_reads_no_rate_from_the_device(monkeypatch):
    x = rand((32, 3), "float32", seed=3)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model = gf.keras.Sequential([gf.keras.Input((3,)), gf.keras.layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.05), loss="mse")
    rate = model.optimizer.learning_rate
    reads = []
    numpy = Tensor.numpy
    monkeypatch.setattr(Tensor, "numpy", lambda self: (reads.append(1) if self is rate else None, numpy(self))[1])
    callbacks = [gf.keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
                 gf.keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=100)]
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=callbacks)
    assert reads == []
    assert history.history["learning_rate"] == pytest.approx([0.025, 0.0125, 0.00625])
    assert float(rate) == pytest.approx(0.00625) and model.optimizer.learning_rate is rate


def test_schedules_keep_keras_3_semantics(device):
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(schedule)
    assert [v.name for v in opt.variables] == ["SGD/iteration"]  # no rate variable with a schedule
    _sgd_step_checks(opt, 0.1)
    value = opt.learning_rate  # the rate for the coming step, as a tensor
    assert isinstance(value, Tensor) and float(value) == pytest.approx(0.05)
    with pytest.raises(TypeError, match="schedule and cannot be set to a number"):
        opt.learning_rate = 0.01
    with pytest.raises(TypeError, match="set_value needs a gf.Variable"):
        K.set_value(opt.learning_rate, 0.01)
    opt.learning_rate = schedules.PiecewiseConstantDecay([100], [0.2, 0.1])  # a new schedule replaces it
    _sgd_step_checks(opt, 0.2)


def test_a_number_optimizer_can_take_a_schedule_and_a_callable_then_a_number_again():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = schedules.ExponentialDecay(0.4, decay_steps=1, decay_rate=0.5)
    assert len(opt.variables) == 1  # the rate variable is no longer tracked (Keras 3 untracks it)
    _sgd_step_checks(opt, 0.4)
    opt.learning_rate = lambda: 0.0625
    assert opt.learning_rate == 0.0625
    _sgd_step_checks(opt, 0.0625)
    opt.learning_rate = 0.5  # a number after a callable: a fresh rate variable
    assert isinstance(opt.learning_rate, gf.Variable) and opt.variables[1] is opt.learning_rate
    _sgd_step_checks(opt, 0.5)


def test_config_round_trip_carries_the_current_rate():
    opt = optimizers.Adam(0.001)
    assert opt.get_config()["learning_rate"] == 0.001  # as given, not float32-rounded
    opt.learning_rate.assign(0.02)
    config = opt.get_config()
    assert config["learning_rate"] == float(np.float32(0.02))
    again = optimizers.Adam.from_config(config)
    assert again.get_config() == config and float(again.learning_rate) == pytest.approx(0.02)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is optimizers.Adam and again.get_config() == config
    assert "learning_rate=0.02" in repr(opt)


@pytest.mark.parametrize("bad,error,match", [(-1.0, ValueError, ">= 0"), (float("nan"), ValueError, ">= 0"),
                                              (float("inf"), ValueError, "finite"), ("fast", TypeError, "a number")])
def test_bad_rates_are_clear_errors(bad, error, match):
    with pytest.raises(error, match=match):
        optimizers.SGD(bad)
    opt = optimizers.SGD(0.1)
    with pytest.raises(error, match=match):
        opt.learning_rate = bad
    assert opt._current_learning_rate() == 0.1  # unchanged
