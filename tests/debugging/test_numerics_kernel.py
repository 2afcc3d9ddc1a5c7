"""kernels/numerics.cu (check_finite) on sim (and cuda) against NumPy: the kinds it finds, the first-failure flag."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import gpuflow as gf
from gpuflow import devices
from gpuflow.backend.cuda.numerics import new_flag, read_and_clear, scan
from gpuflow.backend.numerics import NAN, NEG_INF, POS_INF, host_kinds

FLOATS = [gf.float16, gf.bfloat16, gf.float32, gf.float64]


@pytest.fixture(params=["sim", pytest.param("cuda", marks=pytest.mark.gpu)])
def backend(request):
    """The backend of a device whose checks run on the device: sim, and cuda where there is a GPU."""
    return devices.parse(request.param).backend


def _finite_values(np_dtype, n, rng):
    """Finite values of every sort the bit test must let pass: +-0, subnormals, the largest finite."""
    info = np.finfo(np_dtype) if np_dtype != ml_dtypes.bfloat16 else ml_dtypes.finfo(np_dtype)
    special = np.array([0.0, -0.0, float(info.max), -float(info.max), float(info.smallest_subnormal),
                        -float(info.smallest_subnormal), float(info.tiny)]).astype(np_dtype)
    values = rng.normal(size=n).astype(np_dtype)
    values[:min(n, len(special))] = special[:n]
    return values


def _negative_nan(np_dtype):
    """A NaN with its sign bit set (and another payload): still NaN, not -Infinity."""
    bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[np.dtype(np_dtype).itemsize]
    nan = np.array([np.nan], np_dtype).view(bits)
    return (nan | bits(1) << bits(8 * np.dtype(np_dtype).itemsize - 1) | bits(1)).view(np_dtype)[0]


def _device_kinds(backend, host, dtype, seq=7):
    flag = new_flag(backend)
    scan(backend, backend.from_numpy(host, dtype), dtype, flag, seq)
    found_seq, kinds = read_and_clear(backend, flag)
    assert found_seq == (seq if kinds else 0)
    assert flag.tolist() == [0, 0]  # cleared for the next checks
    return kinds


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("n", [1, 33, 5000])  # 5000 > the sim's 4 blocks x 256 threads: the loop strides
def test_kinds_match_numpy(backend, dtype, n):
    rng = np.random.default_rng(n)
    finite = _finite_values(dtype.np, n, rng)
    cases = {"finite": finite}
    for name, value in [("nan", np.nan), ("+inf", np.inf), ("-inf", -np.inf), ("-nan", _negative_nan(dtype.np))]:
        for where in {0, n // 2, n - 1}:
            a = finite.copy()
            a[where] = value
            cases[f"{name}@{where}"] = a
    if n > 2:
        mixed = finite.copy()
        mixed[[0, n // 2, n - 1]] = np.array([np.inf, np.nan, -np.inf]).astype(dtype.np)
        cases["all three"] = mixed
        cases["all nan"] = np.full(n, np.nan, dtype.np)
    for name, a in cases.items():
        assert _device_kinds(backend, a, dtype) == host_kinds(a), name
    assert host_kinds(cases["-nan@0"]) == NAN and host_kinds(cases["-inf@0"]) == NEG_INF
    assert host_kinds(cases["finite"]) == 0 and host_kinds(cases["+inf@0"]) == POS_INF


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
def test_an_empty_tensor_launches_nothing_and_passes(backend, dtype):
    from gpuflow.runtime.loader import launched
    target = "cuda" if backend.on_gpu else "sim"
    before = set(launched[target])
    assert _device_kinds(backend, np.zeros((0, 4), dtype.np), dtype) == 0 == host_kinds(np.zeros((0, 4), dtype.np))
    assert launched[target] == before
    with gf.device(backend.name):
        assert gf.debugging.check_numerics(gf.zeros([0], dtype=dtype), "empty").shape == (0,)


def test_the_first_failing_check_keeps_the_flag(backend):
    flag = new_flag(backend)
    ok = backend.from_numpy(np.ones(300, np.float32), gf.float32)
    nan = backend.from_numpy(np.full(300, np.nan, np.float32), gf.float32)
    inf = backend.from_numpy(np.full(300, np.inf, np.float32), gf.float32)
    for seq, data in [(1, ok), (2, nan), (3, inf), (4, ok)]:
        scan(backend, data, gf.float32, flag, seq)
    assert read_and_clear(backend, flag) == (2, NAN)  # the +Inf of check 3 does not mix into check 2's kinds
    scan(backend, inf, gf.float32, flag, 5)
    assert read_and_clear(backend, flag) == (5, POS_INF)
