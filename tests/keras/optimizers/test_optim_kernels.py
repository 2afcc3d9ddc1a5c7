"""The fused update kernels (kernels/optim.cu) on sim/cuda match the NumPy backend, every rule and variant."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.ops.optim_prims import RULES, UPDATES
from harness import TOL, assert_close, rand

# Realistic hyper-parameters for each param name (step 3's bias-correction powers and Nadam coefficients).
HYPER = {"lr": 0.01, "weight_decay": 0.02, "momentum": 0.9, "nesterov": True, "beta_1": 0.9, "beta_2": 0.999,
         "epsilon": 1e-7, "beta_1_power": 0.9 ** 3, "beta_2_power": 0.999 ** 3, "m_coef": 1.9, "g_coef": 0.4,
         "v_coef": 1 / (1 - 0.999 ** 3), "rho": 0.9, "apply": 1.0}
# An odd size spanning more than one 256-thread block, a 2-D one, and an empty one.
SHAPES = [(517,), (3, 7), (0,)]
SIGNED = {"m", "momentum", "average"}


def _inputs(name, shape, dtype):
    slots = RULES[name][0]
    p, g = rand(shape, dtype, seed=1), rand(shape, dtype, seed=2)
    # first moments are signed and small; second moments and accumulators positive, as they are in use
    slot_values = [rand(shape, dtype, seed=3 + i) * np.asarray(0.3, dtype) if slot in SIGNED else
                   np.abs(rand(shape, dtype, seed=3 + i)) + np.asarray(0.5, dtype) for i, slot in enumerate(slots)]
    return [p, g] + slot_values


def _run(name, arrays, device, **hyper):
    """The update with `hyper` split as the primitive takes it: per-step scalars in the float64 `step` input."""
    _, step_names, fixed = RULES[name]
    step = np.array([hyper[k] for k in step_names], np.float64)
    with gf.device(device):
        out = UPDATES[name](*[gf.constant(a) for a in arrays], gf.constant(step),
                            **{k: v for k, v in hyper.items() if k in fixed})
    outs = [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]
    assert all(np.isfinite(o.astype(np.float64)).all() for o in outs), f"{name} made non-finite values"
    return outs


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("device", ["sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_kernel_matches_numpy(name, device):
    hyper = {k: HYPER[k] for k in RULES[name][1] + RULES[name][2]}
    for shape in SHAPES:
        arrays = _inputs(name, shape, "float32")
        expected = _run(name, arrays, "cpu", **hyper)
        assert_close(_run(name, arrays, device, **hyper), expected, *TOL["float32"], f"{name}{shape} on {device}")
        if shape and name == "sgd_momentum_update":  # nesterov off is a separate path in the kernel
            assert_close(_run(name, arrays, device, **dict(hyper, nesterov=False)),
                         _run(name, arrays, "cpu", **dict(hyper, nesterov=False)), *TOL["float32"], name)


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("device", ["cpu", "sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_a_skipped_step_keeps_every_input(name, device):
    """apply = 0 (a LossScaleOptimizer's step with non-finite gradients): the parameter and slots come out as they
    went in, bit for bit, even with an inf gradient, a huge rate and weight decay."""
    hyper = {k: HYPER[k] for k in RULES[name][1] + RULES[name][2]}
    hyper.update(apply=0.0, lr=1e30, weight_decay=0.5)
    for shape in SHAPES:
        arrays = _inputs(name, shape, "float32")
        arrays[1] = np.full(shape, np.inf, np.float32)
        _, step_names, fixed = RULES[name]
        with gf.device(device):
            out = UPDATES[name](*[gf.constant(a) for a in arrays], gf.constant(np.array([hyper[k] for k in step_names])),
                                **{k: v for k, v in hyper.items() if k in fixed})
        out = [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]
        kept = [arrays[0]] + arrays[2:]
        assert len(out) == len(kept)
        for got, want in zip(out, kept):
            np.testing.assert_array_equal(got, want, err_msg=f"{name}{shape} on {device}")


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
@pytest.mark.parametrize("device", ["sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_kernel_dtypes(dtype, device):
    name = "adam_amsgrad_update"
    hyper = {k: HYPER[k] for k in RULES[name][1] + RULES[name][2]}
    arrays = _inputs(name, (300,), dtype)
    out = _run(name, arrays, device, **hyper)
    assert all(o.dtype == np.dtype(gf.as_dtype(dtype).np) for o in out)
    assert_close(out, _run(name, arrays, "cpu", **hyper), *TOL[dtype], f"{name} {dtype} on {device}")


@pytest.mark.parametrize("device", ["sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_optimizer_steps_on_device_match_cpu(device):
    """A whole optimizer (slots, iterations, assign) on the device, vs the same on cpu."""
    results = {}
    for dev in ("cpu", device):
        with gf.device(dev):
            variables = [gf.Variable(rand(s, seed=i)) for i, s in enumerate([(40,), (5, 3)])]
            optimizer = gf.keras.optimizers.Nadam(0.05)
            for t in range(3):
                optimizer.apply_gradients([(gf.constant(rand(v.shape, seed=10 + t)), v) for v in variables])
            results[dev] = [v.numpy() for v in optimizer.variables[1:] + variables]
            assert int(optimizer.iterations) == 3
    assert_close(results[device], results["cpu"], *TOL["float32"], f"Nadam on {device}")


def test_update_rejects_mismatched_gradient():
    with pytest.raises(gf.errors.InvalidArgumentError, match="gradient is float64"):
        UPDATES["sgd_update"](gf.constant(np.ones(3, np.float32)), gf.constant(np.ones(3)),
                              gf.constant(np.array([0.1, 1.0])), weight_decay=0.0)


def test_update_rejects_a_bad_step_vector():
    with pytest.raises(gf.errors.InvalidArgumentError, match="step a float64 vector of \\(lr, beta_1_power"):
        UPDATES["adam_update"](*[gf.constant(np.ones(3, np.float32))] * 4, gf.constant(np.array([0.1])), beta_1=0.9,
                               beta_2=0.999, epsilon=1e-7, weight_decay=0.0)
