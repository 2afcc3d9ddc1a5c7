"""Philox 4x32-10 in NumPy: the bit-exact mirror of kernels/random.cu.

The streams (both files implement exactly this; tests/ops/test_random.py pins it):
  block(c0, c1, c2, c3; k0, k1) -> 4 uint32, ten rounds, key bumped between rounds.
  uniform, element i:   counter (i//4 lo, i//4 hi, offset, 0), lane i%4;
                        value = (bits >> (32 - m)) * 2^-m with m = 11 (float16), 8 (bfloat16),
                        24 (float32), 32 (float64): exact in the dtype and always < 1.
  normal, element i:    counter (i lo, i hi, offset, attempt), lanes (x0, x1) then (x2, x3):
                        u1 = (x0 + 1) * 2^-32, u2 = x1 * 2^-32 (double),
                        r = sqrt(-2 log u1), z = r cos(2π u2) [and r sin(2π u2)], rounded once to the
                        dtype (float16/bfloat16 as elementwise.round_once, not twice via float32).
                        normal takes z(x0, x1) of attempt 0; truncated_normal takes the first of
                        z_cos(x0,x1), z_sin(x0,x1), z_cos(x2,x3), z_sin(x2,x3) with |z| < 2, over
                        attempts 0..7 (P(no hit) < 1e-40), else 0.
  Uniform and dropout bits are identical on every device. Normals use double log/sqrt/cos, so
  libraries may differ in the last bit of the double: float32 and narrower results are identical
  in practice, float64 ones within 2 ulp (tests/ops/test_random.py checks both).
  dropout keeps element i when its float32 uniform >= rate, and scales kept values by
  1/(1 - rate) computed in the accumulation type (float32 for half types).
"""
from __future__ import annotations

import numpy as np

from .elementwise import round_once

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_LO = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
TWO_PI = 6.283185307179586
MANTISSA_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 32}


def philox(c0, c1, c2, c3, k0: int, k1: int):
    """Vectorised Philox4x32-10 over uint32 counter arrays; returns four uint32 arrays."""
    c = [np.asarray(v, np.uint64) & _LO for v in np.broadcast_arrays(c0, c1, c2, c3)]  # 32-bit words
    for _ in range(10):
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [(p1 >> _32) ^ c[1] ^ np.uint64(k0), p1 & _LO, (p0 >> _32) ^ c[3] ^ np.uint64(k1), p0 & _LO]
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return [v.astype(np.uint32) for v in c]


def split_key(key: int):
    return key & 0xFFFFFFFF, (key >> 32) & 0xFFFFFFFF


def uniform_bits(n: int, key: int, offset: int) -> np.ndarray:
    blocks = np.arange((n + 3) // 4, dtype=np.uint64)
    lanes = philox(blocks & _LO, blocks >> _32, offset, 0, *split_key(key))
    return np.stack(lanes, axis=-1).reshape(-1)[:n]


def uniform(shape, dtype, key: int, offset: int) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    m = MANTISSA_BITS[dtype.name]
    bits = uniform_bits(n, key, offset).astype(np.float64)
    value = np.floor(bits / 2.0 ** (32 - m)) * 2.0 ** -m
    return value.astype(dtype.np).reshape(shape)


def _box_muller(a, b):
    u1 = (a.astype(np.float64) + 1.0) * 2.0 ** -32
    u2 = b.astype(np.float64) * 2.0 ** -32
    r = np.sqrt(-2.0 * np.log(u1))
    return r * np.cos(TWO_PI * u2), r * np.sin(TWO_PI * u2)


def _rounded(z, dtype):
    return round_once(z, dtype.np) if dtype.itemsize == 2 else z.astype(dtype.np)


def _normal_lanes(n, key, offset, attempt):
    i = np.arange(n, dtype=np.uint64)
    return philox(i & _LO, i >> _32, offset, attempt, *split_key(key))


def normal(shape, dtype, key: int, offset: int) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    x0, x1, _, _ = _normal_lanes(n, key, offset, 0)
    return _rounded(_box_muller(x0, x1)[0], dtype).reshape(shape)


def truncated_normal(shape, dtype, key: int, offset: int) -> np.ndarray:
    n = int(np.prod(shape, dtype=np.int64))
    out = np.zeros(n, np.float64)
    todo = np.ones(n, bool)
    for attempt in range(8):
        x0, x1, x2, x3 = _normal_lanes(n, key, offset, attempt)
        for z in (*_box_muller(x0, x1), *_box_muller(x2, x3)):
            take = todo & (np.abs(z) < 2.0)
            out[take] = z[take]
            todo &= ~take
        if not todo.any():
            break
    return _rounded(out, dtype).reshape(shape)


def keep_mask(shape, rate: float, key: int, offset: int) -> np.ndarray:
    u = uniform_bits(int(np.prod(shape, dtype=np.int64)), key, offset)
    return ((u >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24) >= np.float32(rate)).reshape(shape)
