"""gf.debugging.enable_check_numerics / check_numerics: a NaN or Inf names the op, its inputs and the line.

On cpu the op raises; on sim (as on cuda) kernels/numerics.cu checks on the device and the error comes at
the next read of a value to the host.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.backend import numerics
from gpuflow.backend.numerics import NUMERICS
from gpuflow.errors import InvalidArgumentError

HOST_AND_DEVICE = ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)]
DEVICES = ["sim", pytest.param("cuda", marks=pytest.mark.gpu)]  # where the check runs on the device


@pytest.fixture
def check():
    """The check on for one test; whatever a test leaves queued on a device is dropped after it."""
    gf.debugging.enable_check_numerics()
    yield
    gf.debugging.disable_check_numerics()
    _drain()


@pytest.fixture(autouse=True)
def _clean():
    _drain()
    yield
    _drain()


def _drain():
    for backend in list(NUMERICS.pending):
        try:
            NUMERICS.sync(backend)
        except InvalidArgumentError:
            pass


def _here() -> int:
    """The line of the caller's next line: where the op under test is run."""
    return sys._getframe(1).f_lineno + 1


def _run(fn):
    """fn() and a read of its result: the read is where a device reports."""
    out = fn()
    out.numpy()
    return out


CASES = {
    "log": (lambda: gf.math.log(gf.constant(-1.0)), "NaN"),
    "divide": (lambda: gf.constant(0.0) / gf.constant(0.0), "NaN"),
    "multiply": (lambda: gf.constant(np.inf) * gf.constant(0.0), "NaN"),
    "exp": (lambda: gf.exp(gf.constant([1.0, 1000.0])), "+Infinity"),
}


@pytest.mark.parametrize("op", sorted(CASES))
@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_a_nan_or_inf_names_the_op_its_inputs_and_the_line(check, dev, op):
    make, kind = CASES[op]
    with gf.device(dev):
        with pytest.raises(InvalidArgumentError) as info:
            _run(make)
    text = str(info.value)
    assert f'Detected {kind} in output 0 of op "{op}"' in text, text
    assert f"created at: {__file__}:{make.__code__.co_firstlineno}" in text, text  # the lambda's line in CASES
    assert f"on {dev}:0" in text
    assert ("reported at the next read" in text) == (dev != "cpu")


def test_the_error_lists_every_input_and_the_output():
    with gf.device("cpu"):
        x = gf.constant(np.zeros((2, 3), np.float32))
        y = gf.constant(np.zeros((3,), np.float32))
        gf.debugging.enable_check_numerics()
        try:
            with pytest.raises(InvalidArgumentError, match=r"(?s)output 0: float32\[2, 3\] on cpu:0.*"
                                                           r"inputs: float32\[2, 3\] on cpu:0, float32\[3\] on cpu:0"):
                x / y
        finally:
            gf.debugging.disable_check_numerics()


@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_disabled_no_error(dev):
    with gf.device(dev):
        y = _run(lambda: gf.math.log(gf.constant(-1.0)))
    assert np.isnan(y.numpy())
    assert not NUMERICS.pending and not NUMERICS.enabled


@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_finite_results_pass_and_are_unchanged(check, dev):
    with gf.device(dev):
        x = gf.constant(np.linspace(0.5, 2.0, 7).astype(np.float32))
        y = gf.math.log(x) * 2.0 + gf.reduce_sum(x)
        np.testing.assert_allclose(y.numpy(), np.log(x.numpy()) * 2 + x.numpy().sum(), rtol=1e-6)
        assert gf.math.is_nan(gf.constant([np.nan])).numpy().tolist() == [True]  # a bool output is not checked
        gf.zeros([0, 3]) / gf.zeros([0, 3])  # nothing to check in an empty tensor


@pytest.mark.parametrize("dev", DEVICES)
def test_a_device_check_costs_no_host_read_per_op(check, dev):
    """Ten ops queue ten checks and read nothing; the one .numpy() reads the flag once."""
    with gf.device(dev):
        x = gf.constant(np.arange(1.0, 5.0, dtype=np.float32))
        backend = x._device.backend
        reads = NUMERICS.flag_reads
        for _ in range(10):
            x = gf.sqrt(x + 1.0)
        assert NUMERICS.flag_reads == reads and backend in NUMERICS.pending
        x.numpy()
        assert NUMERICS.flag_reads == reads + 1 and backend not in NUMERICS.pending
        x.numpy()  # nothing queued since: no read at all
        assert NUMERICS.flag_reads == reads + 1


@pytest.mark.parametrize("dev", DEVICES)
def test_the_first_failing_op_is_named_not_the_ones_its_nan_reached(check, dev):
    with gf.device(dev):
        x = gf.constant([4.0, -1.0])
        line = _here()
        y = gf.sqrt(x)            # the NaN is made here ...
        z = gf.exp(y) + 1.0       # ... and only carried on by these
        w = gf.constant([1.0]) * 1e30 * 1e30  # a later +Inf of its own
        with pytest.raises(InvalidArgumentError) as info:
            w.numpy()
    assert 'of op "sqrt"' in str(info.value) and f"{__file__}:{line}" in str(info.value)
    assert z.shape == (2,)
    assert not NUMERICS.pending
    with gf.device(dev):
        (gf.constant([1.0]) + 1.0).numpy()  # the flag was cleared: the next read is clean


def test_a_multi_output_op_names_its_output(check):
    logits = gf.constant([[np.nan, 1.0], [0.0, 1.0]])
    with pytest.raises(InvalidArgumentError, match=r'output 0 of op "sparse_softmax_xent" \(# of outputs: 2\)'):
        gf.nn.sparse_softmax_cross_entropy_with_logits(labels=gf.constant([0, 1]), logits=logits)


def test_more_unread_checks_than_the_ring_holds_read_the_flag_once_per_ring(check, monkeypatch):
    monkeypatch.setattr(numerics, "RING", 4)
    with gf.device("sim"):
        reads = NUMERICS.flag_reads
        line = _here()
        x = gf.math.log(gf.constant(-1.0))
        for _ in range(3):
            x = x + 1.0
        assert NUMERICS.flag_reads == reads  # 4 checks queued: the ring is full, nothing read yet
        with pytest.raises(InvalidArgumentError, match=f'(?s)op "log".*{line}'):
            x + 1.0  # the fifth reads the flag first, so the first failure's description is never dropped
        assert NUMERICS.flag_reads == reads + 1


@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_fit_with_a_nan_loss_raises_naming_the_op(check, dev):
    def nan_loss(y_true, y_pred):
        return gf.reduce_mean(gf.math.log(y_pred - y_true - 1e6))  # log of a negative

    with gf.device(dev):
        model = gf.keras.Sequential([gf.keras.layers.Dense(1, input_shape=(3,))])
        model.compile(optimizer="sgd", loss=nan_loss)
        x, y = np.ones((8, 3), np.float32), np.zeros((8, 1), np.float32)
        with pytest.raises(InvalidArgumentError, match=r'(?s)of op "log".*created at: .*test_check_numerics\.py'):
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)


# ---- gf.debugging.check_numerics: the op --------------------------------------------------------------

@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_check_numerics_returns_the_tensor_or_raises_with_the_message(dev):
    with gf.device(dev):
        x = gf.constant([1.0, 2.0], dtype=gf.float16)
        np.testing.assert_array_equal(gf.debugging.check_numerics(x, "fine").numpy(), x.numpy())
        with pytest.raises(InvalidArgumentError) as info:
            line = _here()
            _run(lambda: gf.debugging.check_numerics(gf.constant([np.inf, np.nan, -np.inf]), "my values"))
    text = str(info.value)
    assert text.startswith("my values : Tensor had NaN and +Infinity and -Infinity values"), text
    assert f"{__file__}:{line}" in text


@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_assert_all_finite_is_check_numerics(dev):
    with gf.device(dev):
        with pytest.raises(InvalidArgumentError, match="^weights : Tensor had NaN values"):
            _run(lambda: gf.debugging.assert_all_finite(gf.constant([0.0, np.nan]), "weights"))


def test_check_numerics_needs_a_float_tensor():
    with pytest.raises(InvalidArgumentError, match="check_numerics: needs a floating-point input, got int32"):
        gf.debugging.check_numerics(gf.constant([1, 2]), "ints")


@pytest.mark.parametrize("dev", HOST_AND_DEVICE)
def test_check_numerics_checks_the_gradient_too(dev):
    with gf.device(dev):
        x = gf.Variable([0.0, 1.0])
        with gf.GradientTape() as tape:
            y = gf.reduce_sum(gf.sqrt(gf.debugging.check_numerics(x, "x")))  # d sqrt(x)/dx at 0 is +Inf
        with pytest.raises(InvalidArgumentError, match="^Not a number .* detected in gradient. x : Tensor had "
                                                       r"\+Infinity values"):
            tape.gradient(y, x).numpy()
