"""The multi-tensor update of compiled cpu graphs through host kernels (graph/fusion/host_update.py) is NumPy's rule
(backend/numpy/optim.py, the reference) bit for bit: every rule, float32 and float64, in place and not, sizes
from empty to past NumPy's chunk, denormals flushed alike."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf
from gpuflow import dtypes
from gpuflow.backend.numpy.optim import CHUNK, multi_update as numpy_multi_update
from gpuflow.backend.optim_rules import RULES
from gpuflow.graph.fusion.host_update import host_multi_update

SIZES = [(3, 4), (0,), (1,), (33,), (CHUNK + 17,), ()]
STEP = {"lr": 0.01, "beta_1_power": 0.9 ** 3, "beta_2_power": 0.999 ** 3, "m_coef": 0.7, "g_coef": 0.2,
        "v_coef": 1.5, "apply": 1.0}
HYPER = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "momentum": 0.9, "nesterov": True, "rho": 0.9}


def _hyper(rule, weight_decay):
    return {name: (weight_decay if name == "weight_decay" else HYPER[name]) for name in RULES[rule][2]}


def _arrays(rule, dtype, rng, sizes=SIZES):
    arrays = []
    for shape in sizes:
        p, g = rng.standard_normal(shape), rng.standard_normal(shape)
        g.reshape(-1)[::5] = 0.0  # where the gradient is 0, moments decay towards denormals
        slots = [np.abs(rng.standard_normal(shape)) * 10.0 ** rng.integers(-40, 0, shape) for _ in RULES[rule][0]]
        arrays += [np.asarray(a).astype(dtype) for a in (p, g, *slots)]  # (0-d: arrays, not scalars)
    return arrays + [np.array([STEP[name] for name in RULES[rule][1]])]


def _host(rule, hyper, dtype, arrays):
    n_in = 2 + len(RULES[rule][0])
    sizes = [a.size for a in arrays[:-1:n_in]]
    run = host_multi_update(rule, hyper, dtypes.as_dtype(dtype), sizes)
    if run is None:
        pytest.skip("no C++ compiler for host kernels here")
    return run


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")  # (centered RMSprop: NaN where vel < avg²)
@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("in_place", [False, True])
def test_the_host_update_is_numpys_rule_bit_for_bit(rule, dtype, in_place):
    rng = np.random.default_rng(len(rule))
    hyper = _hyper(rule, 0.0 if in_place else 0.01)
    arrays = _arrays(rule, dtype, rng)
    n_in = 2 + len(RULES[rule][0])
    params_and_slots = lambda group: [group[k] for k in range(len(group) - 1) if k % n_in != 1]  # noqa: E731
    expected = numpy_multi_update(rule)(*arrays, **hyper)
    if in_place:  # the graph's case: each output is its input's own buffer
        copies = [a.copy() for a in arrays]
        out = tuple(params_and_slots(copies))
        got = _host(rule, hyper, dtype, copies)(*copies, out=out)
        assert all(g is o for g, o in zip(got, out))
    else:
        got = _host(rule, hyper, dtype, arrays)(*arrays)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)
    assert not any(np.any((e != 0) & (np.abs(e) < np.finfo(dtype).tiny)) for e in expected)  # flushed


def test_a_skipped_step_keeps_every_parameter_and_slot():
    rng = np.random.default_rng(1)
    arrays = _arrays("adam_update", np.float32, rng, [(5,), (2, 3)])
    arrays[-1][-1] = 0.0
    got = _host("adam_update", _hyper("adam_update", 0.0), "float32", arrays)(*arrays)
    kept = [arrays[k] for k in (0, 2, 3, 4, 6, 7)]
    for g, k in zip(got, kept):
        np.testing.assert_array_equal(g, k)


def test_strided_inputs_and_outputs_the_kernel_cannot_index_flat():
    """A transposed gradient is read through a contiguous copy; Fortran-ordered buffers to update in place get the
    result copied in."""
    rng = np.random.default_rng(2)
    hyper = _hyper("adam_update", 0.0)
    p, g, m, v = (rng.standard_normal((4, 6)).astype(np.float32) for _ in range(4))
    v = np.abs(v)
    step = np.array([0.01, 0.9, 0.99, 1.0])
    expected = numpy_multi_update("adam_update")(p, g.T.copy().T, m, v, step, **hyper)
    out = tuple(np.asfortranarray(a) for a in (p, m, v))
    got = _host("adam_update", hyper, "float32", [p, step])(p, np.asfortranarray(g), m, v, step, out=out)
    assert all(a is b for a, b in zip(got, out))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_half_types_stay_on_numpys_rule():
    assert host_multi_update("adam_update", _hyper("adam_update", 0.0), dtypes.float16, [3]) is None


def test_a_compiled_fit_trains_the_same_with_host_kernels_off(monkeypatch):
    """The same weights, bit for bit, whether the step's update runs the host kernel or NumPy's rule."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 3, 32).astype(np.int32)

    def train():
        with gf.device("cpu"):
            gf.keras.utils.set_random_seed(4)
            model = gf.keras.Sequential([gf.keras.Input((6,)), gf.keras.layers.Dense(8, activation="relu"),
                                         gf.keras.layers.Dense(3)])
            model.compile(gf.keras.optimizers.Adam(1e-2), gf.keras.losses.SparseCategoricalCrossentropy(True))
            model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
            return [w.numpy() for w in model.weights]
    native = train()
    monkeypatch.setenv("GPUFLOW_HOST_KERNELS", "0")
    reference = train()
    for a, b in zip(native, reference):
        np.testing.assert_array_equal(a, b)


def test_parameters_all_empty_run_nothing():
    arrays = _arrays("adam_update", np.float32, np.random.default_rng(4), [(0,), (0, 3)])
    got = _host("adam_update", _hyper("adam_update", 0.0), "float32", arrays)(*arrays)
    assert [g.shape for g in got] == [(0,)] * 3 + [(0, 3)] * 3
