"""`gf.keras.initializers`: how layers fill new weights (Keras 3 names, arguments and formulas).

An initializer is called as `init(shape, dtype=None)` and returns a Tensor on the current
device. Unseeded ones draw from `gf.random` (so `gf.random.set_seed` makes them repeatable);
a seeded one returns the same values on every call, as in Keras 3.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from .. import random as _random
from ..ops import constant, eye, fill
from ..ops import random_prims
from ._objects import Family

# Public names: what the API reference shows and `import *` takes (imported helpers are not API).
__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "Initializer",
           "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "Zeros", "constant_initializer", "deserialize", "get", "glorot_normal",
           "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones",
           "orthogonal", "random_normal", "random_uniform", "serialize", "truncated_normal", "variance_scaling",
           "zeros"]

# 1 / std of the standard normal truncated to [-2, 2]: makes a truncated draw have the asked std.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape):
    """(fan_in, fan_out) as Keras computes them; conv kernels (..., in, out) count the receptive field."""
    shape = tuple(int(d) for d in shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _dtype(dtype):
    dtype = dtypes.as_dtype(dtype or dtypes.float32)
    if not dtype.is_floating:
        raise ValueError(f"initializers draw floating-point values; {dtype.name} was asked for")
    return dtype


class Initializer:
    """The base class: `init(shape, dtype=None)` returns a new tensor of initial values; override `__call__`.
    """
    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype=None)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Constant(Initializer):
    """Every value `value`."""
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return fill(tuple(shape), self.value, dtype=_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    """Every value 0."""
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    """Every value 1."""
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class _Random(Initializer):
    """Base of the random initializers: `_draw` picks unseeded (global stream) or seeded (fixed) draws."""

    def __init__(self, seed=None):
        self.seed = seed

    def _draw(self, kind, shape, dtype):
        shape = tuple(int(d) for d in shape)
        if self.seed is None:
            return getattr(_random, kind)(shape, dtype=dtype)
        # Fixed key and offset 0: the same values every call, independent of the global seed (Keras 3).
        prim = {"uniform": random_prims.random_uniform, "normal": random_prims.random_normal,
                "truncated_normal": random_prims.truncated_normal}[kind]
        key = (int(self.seed) & 0xFFFFFFFF) << 32 | 0x1A17
        return prim(constant(0, dtype=dtypes.int64), shape=shape, dtype=dtype, key=key)

    def get_config(self):
        return {"seed": self.seed}


class RandomUniform(_Random):
    """Uniform values in [minval, maxval). With a `seed`, the same values on every call (Keras 3);
        without, draws from the global seed's stream.
    """
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        u = self._draw("uniform", shape, _dtype(dtype))
        return u * (self.maxval - self.minval) + self.minval

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class RandomNormal(_Random):
    """Normal values with `mean` and `stddev`. With a `seed`, the same values on every call (Keras 3);
        without, draws from the global seed's stream.
    """
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return self._draw("normal", shape, _dtype(dtype)) * self.stddev + self.mean

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomNormal):
    """Normal values more than two standard deviations from the mean are redrawn."""

    def __call__(self, shape, dtype=None):
        return self._draw("truncated_normal", shape, _dtype(dtype)) * self.stddev + self.mean


class VarianceScaling(_Random):
    """Values with variance scale / fan, fan chosen by `mode` ('fan_in', 'fan_out', 'fan_avg')."""
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self._MODES}, got {mode!r}")
        distribution = "untruncated_normal" if distribution == "normal" else distribution
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: distribution must be one of {self._DISTRIBUTIONS}, got "
                             f"{distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._draw("uniform", shape, dtype) * (2 * limit) - limit
        if self.distribution == "truncated_normal":
            return self._draw("truncated_normal", shape, dtype) * (math.sqrt(variance) / _TRUNCATED_STD)
        return self._draw("normal", shape, dtype) * math.sqrt(variance)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, **super().get_config()}


def _preset(name, scale, mode, distribution, doc):
    """A VarianceScaling with fixed arguments whose config holds only the seed, like Keras's."""
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                           "__module__": __name__})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform", "Uniform in ±sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "Truncated normal, std sqrt(2 / (fan_in + fan_out)).")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "Uniform in ±sqrt(6 / fan_in).")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, std sqrt(2 / fan_in).")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "Uniform in ±sqrt(3 / fan_in).")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated normal, std sqrt(1 / fan_in).")


class Orthogonal(_Random):
    """An orthogonal matrix (times gain) from the QR factors of a normal draw; rank >= 2 shapes are
    flattened to (prod(shape[:-1]), shape[-1]). QR runs on the host: it happens once per weight."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        shape = tuple(int(d) for d in shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._draw("normal", (max(rows, cols), min(rows, cols)), dtypes.float64).numpy()
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # makes the factorisation unique, so the result is uniformly distributed
        if rows < cols:
            q = q.T
        return constant((self.gain * q).reshape(shape), dtype=dtype)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only)."""
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {shape}")
        return eye(shape[0], shape[1], dtype=_dtype(dtype)) * self.gain

    def get_config(self):
        return {"gain": self.gain}


_FAMILY = Family("initializer", [Constant, Zeros, Ones, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling,
                                 GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal,
                                 Orthogonal, Identity],
                 aliases={"uniform": RandomUniform, "normal": RandomNormal, "random_uniform": RandomUniform,
                          "random_normal": RandomNormal, "zero": Zeros, "one": Ones})
get, serialize, deserialize = _FAMILY.get, _FAMILY.serialize, _FAMILY.deserialize

# Lower-case aliases, as keras.initializers offers them.
zeros, ones, constant_initializer = Zeros, Ones, Constant
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal, orthogonal, identity = LecunUniform, LecunNormal, Orthogonal, Identity
random_uniform, random_normal, truncated_normal, variance_scaling = RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling
