"""The NumPy update rules written into their own input buffers (a compiled cpu step's in-place update) give the
very bits of the allocating call, for every rule, dtype and size (past one scratch chunk too)."""
import numpy as np
import pytest

from gpuflow.backend.numpy import _denormals, optim
from gpuflow.backend.numpy._registry import IMPLS
from gpuflow.ops.optim_prims import RULES
from harness import rand

HYPER = {"lr": 0.01, "weight_decay": 0.02, "momentum": 0.9, "nesterov": True, "beta_1": 0.9, "beta_2": 0.999,
         "epsilon": 1e-7, "beta_1_power": 0.9 ** 3, "beta_2_power": 0.999 ** 3, "m_coef": 1.9, "g_coef": 0.4,
         "v_coef": 1 / (1 - 0.999 ** 3), "rho": 0.9}
SIGNED = {"m", "momentum", "average"}


def _arrays(name, shape, dtype):
    slots = RULES[name][0]
    arrays = [rand(shape, dtype, seed=1), rand(shape, dtype, seed=2)]
    arrays += [rand(shape, dtype, seed=3 + i) * np.asarray(0.3, dtype) if s in SIGNED else
               np.abs(rand(shape, dtype, seed=3 + i)) + np.asarray(0.5, dtype) for i, s in enumerate(slots)]
    return [np.asarray(a) for a in arrays]  # 0-d: arrays, not NumPy scalars


def _call(name, arrays, out=None, **changes):
    _, step_names, fixed = RULES[name]
    hyper = dict(HYPER, apply=1.0, **changes)  # apply: the step is taken (0 would skip it)
    step = np.array([hyper[k] for k in step_names], np.float64)
    result = IMPLS[name](*arrays, step, out=out, **{k: hyper[k] for k in fixed})
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("shape", [(517,), (3, 7), (), (0,), (optim.CHUNK + 5,)], ids=str)
def test_in_place_gives_the_allocating_calls_bits(name, shape):
    arrays = _arrays(name, shape, "float32")
    expected = _call(name, [a.copy() for a in arrays])
    inputs = [a.copy() for a in arrays]
    targets = [inputs[0]] + inputs[2:]  # the param and the slots, as the compiled step passes them
    got = _call(name, inputs, out=targets)
    assert all(g is t for g, t in zip(got, targets))  # written into the given buffers, no new ones
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g.view(np.uint32), e.view(np.uint32))  # bitwise (signed zeros too)
    np.testing.assert_array_equal(inputs[1], arrays[1])  # the gradient is only read


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_other_dtypes_in_place(dtype):
    name = "adam_amsgrad_update"
    arrays = _arrays(name, (300,), dtype)
    expected = _call(name, [a.copy() for a in arrays])
    inputs = [a.copy() for a in arrays]
    got = _call(name, inputs, out=[inputs[0]] + inputs[2:])
    for g, e in zip(got, expected):
        assert g.dtype == np.dtype(e.dtype) == inputs[0].dtype
        np.testing.assert_array_equal(g.astype(np.float64), e.astype(np.float64))


def test_nesterov_off_and_no_weight_decay():
    for name, changes in [("sgd_momentum_update", {"nesterov": False}), ("adam_update", {"weight_decay": 0.0})]:
        arrays = _arrays(name, (40,), "float32")
        expected = _call(name, [a.copy() for a in arrays], **changes)
        inputs = [a.copy() for a in arrays]
        got = _call(name, inputs, out=[inputs[0]] + inputs[2:], **changes)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


@pytest.mark.skipif(not _denormals.available(), reason="no control of the FPU's denormal mode on this platform")
def test_adam_moments_never_turn_denormal():
    """A moment decaying where the gradient is 0 would turn denormal (~10x as slow on x86): its increment is
    flushed to 0 instead, as TF's cpu kernels flush it, and a denormal moment given in reads as 0. Outside the
    update, NumPy keeps denormals."""
    tiny = np.finfo(np.float32).tiny
    p, g, v = np.ones(3, np.float32), np.zeros(3, np.float32), np.full(3, 0.25, np.float32)
    m = np.array([1e-30, -1e-30, tiny / 4], np.float32)  # the last one denormal already
    for _ in range(800):  # 0.9 ** 800 * 1e-30 would be ~1e-67
        _, m, v = _call("adam_update", [p, g, m, v], weight_decay=0.0)
    assert not np.any((m != 0) & (np.abs(m) < tiny)) and not np.any((v != 0) & (np.abs(v) < tiny))
    assert m[2] == 0
    half_tiny = np.float32(tiny) * np.float32(0.5)
    assert 0 < half_tiny < tiny  # the mode was restored: denormals again


def test_flush_denormals_nests():
    tiny = np.float32(np.finfo(np.float32).tiny)
    with _denormals.flush_denormals():
        with _denormals.flush_denormals():
            pass
        inner = tiny * np.float32(0.5)  # still flushing after the inner block
    assert inner == 0 or not _denormals.available()
    assert tiny * np.float32(0.5) > 0
