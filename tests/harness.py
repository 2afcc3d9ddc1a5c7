"""The generic op-test harness: inputs + a NumPy reference → forward, gradient and parity checks.

    check_op(gf.add, [x, y], np.add)                   # forward on every device vs the reference
    check_grad(gf.multiply, [x, y])                     # float64 finite differences vs the tape, on cpu
    check_parity(lambda a: gf.nn.softmax(a), [x])       # sim/cuda forward and backward vs cpu

Inputs are NumPy arrays (made into tensors on the device under test) or plain Python
values passed through unchanged. References take the same arguments as NumPy arrays.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

import gpuflow as gf

# Tolerances per dtype: float16/bfloat16 round every result, float32 accumulates. A blanket bound for
# shape and plumbing checks; accuracy is checked by check_precision, whose bound is derived per op.
TOL = {"float16": (2e-3, 2e-3), "bfloat16": (1.6e-2, 1.6e-2), "float32": (2e-5, 2e-5), "float64": (1e-10, 1e-10)}

# Machine epsilon (the spacing of numbers at 1) per dtype, and the dtype each one computes in: half and
# bfloat16 compute in float32 and round once, in the kernels and in the NumPy backend alike.
EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
COMPUTE = {"float16": "float32", "bfloat16": "float32", "float32": "float32", "float64": "float64"}


def rng(seed=0):
    return np.random.default_rng(seed)


def rand(shape, dtype="float32", low=-2.0, high=2.0, seed=0):
    """Random values of any shape (empty included) and dtype; never all zeros."""
    r = rng(seed)
    dtype = gf.as_dtype(dtype)
    if dtype.is_floating:
        return r.uniform(low, high, size=shape).astype(dtype.np)
    if dtype.is_bool:
        return r.random(size=shape) < 0.5
    return r.integers(int(low) if low < 0 else 0, max(int(high), 1) + 1, size=shape).astype(dtype.np)


def _is_float(a) -> bool:
    """Floating NumPy data, bfloat16 included (NumPy files it under kind 'V')."""
    return isinstance(a, np.ndarray) and (a.dtype.kind == "f" or a.dtype.name == "bfloat16")


def _wide(a):
    return a.astype(np.float64) if _is_float(a) else a


def _tensors(inputs):
    return [gf.constant(a) if isinstance(a, np.ndarray) else a for a in inputs]


def _numpy(out):
    if isinstance(out, (list, tuple)):
        return [_numpy(o) for o in out]
    return out.numpy() if isinstance(out, gf.Tensor) else np.asarray(out)


def _tolerance(arrays, rtol=None, atol=None):
    names = [a.dtype.name for a in arrays if _is_float(a)]
    worst = max((TOL[n] for n in names), default=TOL["float32"], key=lambda t: t[0])
    return rtol or worst[0], atol or worst[1]


def assert_close(actual, expected, rtol, atol, what=""):
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol, what)
        return
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype.kind in "biu" and actual.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                                   err_msg=what, equal_nan=True)


def check_op(fn, inputs, reference, device=None, rtol=None, atol=None, dtype=None):
    """fn on the device's tensors matches reference(*inputs) (computed in float64, rounded to fn's dtype)."""
    rtol, atol = _tolerance(inputs, rtol, atol)
    expected = reference(*[_wide(a) for a in inputs])
    with gf.device(device or "cpu"):
        out = fn(*_tensors(inputs))
    actual = _numpy(out)
    if dtype is not None:
        assert out.dtype == gf.as_dtype(dtype), f"dtype {out.dtype}, expected {dtype}"
    assert_close(actual, expected, rtol, atol, f"{getattr(fn, '__name__', fn)} on {device}")
    return out


def _scalar_loss(fn, args, cotangents):
    out = fn(*args)
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = None
    for o, c in zip(outs, cotangents):
        term = gf.reduce_sum(o * gf.constant(c)) if o.dtype.is_floating else None
        if term is not None:
            total = term if total is None else total + term
    return total


def check_grad(fn, inputs, wrt=None, eps=1e-6, rtol=1e-5, atol=1e-6):
    """Tape gradients of sum(fn(x) * c) (c random) vs central finite differences, in float64 on cpu."""
    inputs64 = [_wide(a) for a in inputs]
    wrt = [i for i, a in enumerate(inputs64) if _is_float(a)] if wrt is None else wrt
    with gf.device("cpu"):
        args = _tensors(inputs64)
        probe = fn(*args)
        outs = probe if isinstance(probe, (list, tuple)) else [probe]
        cot = [rng(7).uniform(0.5, 1.5, size=tuple(o.shape)) for o in outs]
        watched = [args[i] for i in wrt]
        with gf.GradientTape() as tape:
            tape.watch(watched)
            loss = _scalar_loss(fn, args, cot)
        grads = tape.gradient(loss, watched)
        for i, g in zip(wrt, grads):
            base = inputs64[i]
            numeric = np.zeros_like(base)
            for j in range(base.size):
                bumped = [a.copy() if isinstance(a, np.ndarray) else a for a in inputs64]
                flat = bumped[i].reshape(-1)
                flat[j] += eps
                up = float(_scalar_loss(fn, _tensors(bumped), cot))
                flat[j] -= 2 * eps
                down = float(_scalar_loss(fn, _tensors(bumped), cot))
                numeric.reshape(-1)[j] = (up - down) / (2 * eps)
            analytic = np.zeros_like(base) if g is None else g.numpy()
            np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                                       err_msg=f"gradient of {getattr(fn, '__name__', fn)} w.r.t. input {i}")
    return grads


def check_parity(fn, inputs, device, grad=True, rtol=None, atol=None):
    """On `device`, fn's outputs and input gradients match the cpu backend's."""
    rtol, atol = _tolerance(inputs, rtol, atol)
    results = {}
    for dev in ("cpu", device):
        with gf.device(dev):
            args = _tensors(inputs)
            watched = [a for a in args if isinstance(a, gf.Tensor) and a.dtype.is_floating]
            with gf.GradientTape() as tape:
                tape.watch(watched)
                out = fn(*args)
                outs = out if isinstance(out, (list, tuple)) else [out]
                cot = [rng(7).uniform(0.5, 1.5, size=tuple(o.shape)).astype(o.dtype.np) for o in outs]
                loss = _scalar_loss(lambda *a: outs, args, cot) if grad and watched else None
            grads = tape.gradient(loss, watched) if loss is not None else []
            results[dev] = (_numpy(outs), [None if g is None else g.numpy() for g in grads])
    (cpu_out, cpu_grads), (dev_out, dev_grads) = results["cpu"], results[device]
    assert_close(dev_out, cpu_out, rtol, atol, f"forward on {device} vs cpu")
    for k, (a, e) in enumerate(zip(dev_grads, cpu_grads)):
        assert (a is None) == (e is None), f"gradient {k}: None on one device only"
        if a is not None:
            assert_close(a, e, rtol * 10, atol * 10, f"gradient {k} on {device} vs cpu")


def precision_bound(dtype, expected, n=1, ulps=4, scale=None):
    """The largest error a correct kernel makes, element by element, for a result of `dtype` that folds
    `n` terms. Rounding the stored result costs one eps of the storage dtype (only where it is narrower
    than the compute dtype); the arithmetic costs `ulps` (the op's own roundings: exp, a division...)
    plus `n` (a sum of n terms, in any order, is off by at most (n - 1) eps times the sum of the
    terms' magnitudes) units of the compute dtype's eps, times `scale`: that sum of magnitudes
    (default: the result's own magnitude), plus one subnormal spacing."""
    dtype = gf.as_dtype(dtype)
    name = dtype.name
    magnitude = np.abs(expected)
    scale = magnitude if scale is None else np.abs(scale)
    store = EPS[name] * magnitude if COMPUTE[name] != name else 0.0
    # Below the smallest normal number the spacing stops shrinking: a result there is off by up to one subnormal.
    subnormal = float(ml_dtypes.finfo(dtype.np).smallest_subnormal)
    return store + subnormal + (ulps + n) * EPS[COMPUTE[name]] * scale


def check_precision(fn, inputs, reference, device, n=1, ulps=4, scale=None, what=""):
    """fn on `device` is within precision_bound of reference(*inputs) computed in float64.

    Unlike check_op's blanket per-dtype tolerance, the bound follows the dtype's epsilon and the
    reduction length, so an error a few times the op's own rounding fails even in float16."""
    expected = reference(*[_wide(a) for a in inputs])
    with gf.device(device):
        out = fn(*_tensors(inputs))
    outs, exps = (out, expected) if isinstance(out, (list, tuple)) else ([out], [expected])
    for o, e in zip(outs, exps):
        actual, e = o.numpy().astype(np.float64), np.asarray(e, np.float64)
        bound = np.broadcast_to(precision_bound(o.dtype, e, n, ulps, scale), e.shape)
        err = np.abs(actual - e)
        bad = ~((err <= bound) | (np.isnan(actual) & np.isnan(e)) | (actual == e))
        if bad.any():
            i = np.unravel_index(np.argmax(np.where(bad, err / np.maximum(bound, 1e-300), 0)), e.shape)
            raise AssertionError(
                f"{what or getattr(fn, '__name__', fn)} on {device} ({o.dtype.name}, n={n}): {bad.sum()} of {e.size} "
                f"elements off by more than the bound; worst at {i}: got {actual[i]!r}, float64 says {e[i]!r}, "
                f"error {err[i]:.3g} > bound {bound[i]:.3g}")
    return out

