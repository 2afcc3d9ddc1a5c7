"""Fused optimizer updates on NumPy: the reference for kernels/optim.cu, same order of operations.

Each rule writes the new (param, *slots) into output buffers, one elementwise NumPy pass at a time with
`out=`, through two scratch buffers: an update makes no temporaries. On cpu the fresh arrays are what cost,
not the arithmetic (a new parameter-sized buffer is new pages from the OS: an MLP's Adam step took 3x as long
with NumPy's temporaries as in place). An output buffer may be its own input (the new param written over the
param, m over m: a compiled step's in-place update, gpuflow/graph/cpu_replay.py): every rule reads an input
element before or as it writes that element of its output, never after. Large arrays go through in chunks of
CHUNK elements, so the scratch stays small. Denormal results are flushed to zero (_denormals.py): an Adam
moment that decays where the gradient is zero otherwise turns denormal after ~800 steps and makes each
update ~5x as slow.

half and bfloat16 compute in float32 and round each output once, as the kernels do.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from ._denormals import flush_denormals
from ._registry import impl, widen
from ..optim_rules import RULES

CHUNK = 1 << 17  # elements per pass: the scratch is 2 x 512 KiB (float32) per thread
_SCRATCH = threading.local()  # per thread: updates run in Dataset workers and replica threads too
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLUSH = flush_denormals()


def _scratch(dtype):
    pairs = _SCRATCH.__dict__.setdefault("pairs", {})
    pair = pairs.get(dtype.char)  # (dtype.name is slow: NumPy builds it on each call)
    if pair is None:
        pair = pairs[dtype.char] = (np.empty(CHUNK, dtype), np.empty(CHUNK, dtype))
    return pair


_RUNNERS: dict = {}  # update name → its Runner: the single-tensor impl and the multi-tensor one share it


def _rule(name):
    """Register an update: its per-step scalars (the `step` vector, last input) and float params become scalars
    of the kernel's acc_t<T>, so that derived constants like 1 - beta_2 round as they do in the kernel.

    `out`: buffers for the new (param, *slots), written and returned (the update in place); each may be the
    input at its own position, and no other. Without it, new arrays. The last per-step scalar, `apply`, is not
    the rule's: 0 skips the step, every output its input."""
    def register(fn):
        runner = _RUNNERS[name] = Runner(name, fn)
        impl(name)(runner.many)
        return fn
    return register


class Runner:
    """A rule's calls: `many(*arrays, out=None, **hyper)` updates one tensor (p, g, *slots, step: the primitive's
    impl) or several that share `step` and the hyper-parameters, laid out as the multi-tensor kernel takes them
    (p0, g0, *slots0, p1, g1, *slots1, ..., step). The call's set-up (its scalars, the denormal mode) is made once
    for all of them: on cpu that set-up is most of a small tensor's update."""

    def __init__(self, name, fn):
        self.fn, self.step_names = fn, RULES[name][1][:-1]
        self.n_out = 1 + len(RULES[name][0])
        self.fixed = {}  # (dtype, the call's params) → them as acc_t scalars: a graph node passes the same every step

    def many(self, *arrays, out=None, **hyper):
        n_in, n_out = self.n_out + 1, self.n_out
        values = arrays[-1].tolist()
        results = []
        if values[-1] == 0.0:
            for k in range(0, len(arrays) - 1, n_in):
                o = None if out is None else out[k // n_in * n_out:(k // n_in + 1) * n_out]
                results += _skipped(arrays[k], arrays[k + 2:k + n_in], o)
        else:
            made = {}
            starts = range(0, len(arrays) - 1, n_in)
            if len(starts) > 1:  # smallest first: a large update streams through the cache and evicts what the
                starts = sorted(starts, key=lambda k: arrays[k].size)  # small ones' calls would reuse
            results = [None] * len(starts)
            with _FLUSH:  # decayed moments reach denormals, ~10x as slow on x86: flushed to 0, as TF's cpu does
                for k in starts:
                    p = arrays[k]
                    acc = _F64 if p.dtype == _F64 else _F32
                    scalars = made[acc] if acc in made else self._scalars(acc, hyper, values, made)
                    o = None if out is None else out[k // n_in * n_out:(k // n_in + 1) * n_out]
                    results[k // n_in] = self._update(p, arrays[k + 1:k + n_in], o, acc, scalars)
            results = [a for r in results for a in r]
        return results[0] if len(results) == 1 else tuple(results)

    def _scalars(self, acc, hyper, values, made):
        """The rule's keyword scalars in acc_t (made once per call and acc_t)."""
        key = (acc, *hyper.items())
        fixed = self.fixed.get(key)
        if fixed is None:
            if len(self.fixed) > 256:  # params that change call after call (a sweep): keep the table small
                self.fixed.clear()
            fixed = self.fixed[key] = {k: v if isinstance(v, bool) else acc.type(v) for k, v in hyper.items()}
        scalars = made[acc] = fixed.copy()
        for k, v in zip(self.step_names, values):
            scalars[k] = acc.type(v)
        return scalars

    def _update(self, p, arrays, out, acc, hyper):
        """(new param, *new slots) of one tensor, written into `out` when given."""
        inputs = (p, *arrays) if p.dtype == acc else [widen(a) for a in (p, *arrays)]
        if out is not None and all(type(o) is np.ndarray and o.dtype == acc for o in out):
            _chunked(self.fn, out, inputs, acc, hyper)
            return out
        targets = [np.empty(p.shape, acc) for _ in range(self.n_out)]
        _chunked(self.fn, targets, inputs, acc, hyper)
        results = [t.astype(p.dtype, copy=False) for t in targets]  # half/bfloat16: rounded once
        if out is None:
            return results
        for target, value in zip(out, results):
            np.copyto(target, value)
        return out


def multi_update(name):
    """The multi-tensor form of update `name` (see Runner.many): graph/fusion/multi_update.py's node on cpu."""
    return _RUNNERS[name].many


def _skipped(p, slots, out):
    """A skipped step (`apply` 0): the new (param, *slots) are the old ones (the gradient is not among them)."""
    inputs = (p, *slots)
    if out is None:
        return [a.copy() for a in inputs]
    for target, value in zip(out, inputs):
        if target is not value:
            np.copyto(target, value)
    return out


def _chunked(fn, targets, inputs, acc, hyper):
    """fn(outs, *inputs, t, s, **hyper), CHUNK elements at a time (all arrays have the param's shape)."""
    t, s = _scratch(acc)
    n = inputs[0].size
    if n <= CHUNK:  # one pass: the arrays as they are, any layout
        shape = inputs[0].shape
        return fn(targets, *inputs, t[:n].reshape(shape), s[:n].reshape(shape), **hyper)
    if not all(o.flags.c_contiguous for o in targets):  # chunks of a flattened copy would not write through
        fresh = [np.empty(o.shape, acc) for o in targets]
        _chunked(fn, fresh, inputs, acc, hyper)
        for o, value in zip(targets, fresh):
            np.copyto(o, value)
        return None
    outs = [o.reshape(-1) for o in targets]  # C-contiguous: views
    ins = [a.reshape(-1) for a in inputs]
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        fn([o[lo:hi] for o in outs], *[a[lo:hi] for a in ins], t[:hi - lo], s[:hi - lo], **hyper)
    return None


def _decayed(out, p, lr, weight_decay, s):
    """p - lr * weight_decay * p (Keras' decoupled weight decay), written into `out` and returned. weight_decay 0
    (the default) returns p itself, two passes fewer: p - 0 * p differs from p only for a parameter of -0 (+0)
    and an infinite one (NaN)."""
    if weight_decay == 0:
        return p
    np.multiply(p, lr * weight_decay, out=s)
    return np.subtract(p, s, out=out)


def _average_into(out, old, x, beta, t):
    """out = old + (x - old) * (1 - beta): Keras' moving average (t may be x itself)."""
    np.subtract(x, old, out=t)
    np.multiply(t, 1 - beta, out=t)
    np.add(old, t, out=out)


@_rule("sgd_update")
def sgd_update(outs, p, g, t, s, lr, weight_decay):
    np.multiply(g, lr, out=t)
    np.subtract(_decayed(outs[0], p, lr, weight_decay, s), t, out=outs[0])


@_rule("sgd_momentum_update")
def sgd_momentum_update(outs, p, g, m, t, s, lr, momentum, nesterov, weight_decay):
    p_out, m_out = outs
    np.multiply(g, lr, out=t)
    np.multiply(m, momentum, out=m_out)
    np.subtract(m_out, t, out=m_out)  # m_new = momentum * m - lr * g
    step = m_out
    if nesterov:  # momentum * m_new - lr * g
        np.multiply(m_out, momentum, out=s)
        np.subtract(s, t, out=t)
        step = t
    np.add(_decayed(p_out, p, lr, weight_decay, s), step, out=p_out)


def _adam(outs, p, g, m, v, v_hat, t, s, lr, beta_1, beta_2, epsilon, beta_1_power, beta_2_power, weight_decay):
    p_out, m_out, v_out = outs[:3]
    alpha = lr * math.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    _average_into(m_out, m, g, beta_1, t)
    np.multiply(g, g, out=t)
    _average_into(v_out, v, t, beta_2, t)
    denom = v_out if v_hat is None else np.maximum(v_hat, v_out, out=outs[3])
    np.multiply(m_out, alpha, out=t)
    np.sqrt(denom, out=s)
    np.add(s, epsilon, out=s)
    np.divide(t, s, out=t)
    np.subtract(_decayed(p_out, p, lr, weight_decay, s), t, out=p_out)


@_rule("adam_update")
def adam_update(outs, p, g, m, v, t, s, **hyper):
    _adam(outs, p, g, m, v, None, t, s, **hyper)


@_rule("adam_amsgrad_update")
def adam_amsgrad_update(outs, p, g, m, v, v_hat, t, s, **hyper):
    _adam(outs, p, g, m, v, v_hat, t, s, **hyper)


@_rule("adamax_update")
def adamax_update(outs, p, g, m, u, t, s, lr, beta_1, beta_2, epsilon, beta_1_power, weight_decay):
    p_out, m_out, u_out = outs
    _average_into(m_out, m, g, beta_1, t)
    np.abs(g, out=t)
    np.multiply(u, beta_2, out=u_out)
    np.maximum(u_out, t, out=u_out)  # u_new = max(beta_2 * u, |g|)
    np.multiply(m_out, lr, out=t)
    np.add(u_out, epsilon, out=s)
    np.multiply(s, 1 - beta_1_power, out=s)
    np.divide(t, s, out=t)  # lr * m_new / ((1 - beta_1_power) * (u_new + epsilon))
    np.subtract(_decayed(p_out, p, lr, weight_decay, s), t, out=p_out)


@_rule("nadam_update")
def nadam_update(outs, p, g, m, v, t, s, lr, beta_1, beta_2, epsilon, m_coef, g_coef, v_coef, weight_decay):
    p_out, m_out, v_out = outs
    _average_into(m_out, m, g, beta_1, t)
    np.multiply(g, g, out=t)
    _average_into(v_out, v, t, beta_2, t)
    np.multiply(m_out, m_coef, out=t)
    np.multiply(g, g_coef, out=s)
    np.add(t, s, out=t)  # m_hat
    np.multiply(t, lr, out=t)
    np.multiply(v_out, v_coef, out=s)
    np.sqrt(s, out=s)
    np.add(s, epsilon, out=s)
    np.divide(t, s, out=t)  # m_hat * lr / (sqrt(v_new * v_coef) + epsilon)
    np.subtract(_decayed(p_out, p, lr, weight_decay, s), t, out=p_out)


def _rmsprop(outs, p, g, vel, avg, mom, t, s, lr, rho, epsilon, weight_decay, momentum=0.0):
    """outs: (p, velocity[, average][, momentum]); the momentum slot's new value is the step itself."""
    p_out, vel_out = outs[:2]
    np.multiply(g, 1 - rho, out=t)
    np.multiply(t, g, out=t)
    np.multiply(vel, rho, out=vel_out)
    np.add(vel_out, t, out=vel_out)  # rho * vel + (1 - rho) * g * g
    if avg is not None:
        avg_out = outs[2]
        np.multiply(g, 1 - rho, out=t)
        np.multiply(avg, rho, out=avg_out)
        np.add(avg_out, t, out=avg_out)
        np.multiply(avg_out, avg_out, out=s)
        np.subtract(vel_out, s, out=s)
        np.add(s, epsilon, out=s)  # vel_new - avg_new^2 + epsilon
    else:
        np.add(vel_out, epsilon, out=s)
    np.sqrt(s, out=s)
    np.multiply(g, lr, out=t)
    np.divide(t, s, out=t)
    step = t
    if mom is not None:
        step = outs[-1]
        np.multiply(mom, momentum, out=step)
        np.add(t, step, out=step)
    np.subtract(_decayed(p_out, p, lr, weight_decay, s), step, out=p_out)


@_rule("rmsprop_update")
def rmsprop_update(outs, p, g, vel, t, s, **hyper):
    _rmsprop(outs, p, g, vel, None, None, t, s, **hyper)


@_rule("rmsprop_momentum_update")
def rmsprop_momentum_update(outs, p, g, vel, mom, t, s, **hyper):
    _rmsprop(outs, p, g, vel, None, mom, t, s, **hyper)


@_rule("rmsprop_centered_update")
def rmsprop_centered_update(outs, p, g, vel, avg, t, s, **hyper):
    _rmsprop(outs, p, g, vel, avg, None, t, s, **hyper)


@_rule("rmsprop_centered_momentum_update")
def rmsprop_centered_momentum_update(outs, p, g, vel, avg, mom, t, s, **hyper):
    _rmsprop(outs, p, g, vel, avg, mom, t, s, **hyper)


@_rule("adagrad_update")
def adagrad_update(outs, p, g, acc, t, s, lr, epsilon, weight_decay):
    p_out, acc_out = outs
    np.multiply(g, g, out=t)
    np.add(acc, t, out=acc_out)
    np.add(acc_out, epsilon, out=s)
    np.sqrt(s, out=s)
    np.multiply(g, lr, out=t)
    np.divide(t, s, out=t)  # lr * g / sqrt(acc_new + epsilon)
    np.subtract(_decayed(p_out, p, lr, weight_decay, s), t, out=p_out)


@_rule("adadelta_update")
def adadelta_update(outs, p, g, acc_g, acc_d, t, s, lr, rho, epsilon, weight_decay):
    p_out, acc_g_out, acc_d_out = outs
    np.multiply(g, g, out=t)
    np.multiply(t, 1 - rho, out=t)
    np.multiply(acc_g, rho, out=acc_g_out)
    np.add(acc_g_out, t, out=acc_g_out)  # rho * acc_g + (1 - rho) * g^2
    np.add(acc_d, epsilon, out=t)
    np.sqrt(t, out=t)
    np.negative(t, out=t)
    np.multiply(t, g, out=t)
    np.add(acc_g_out, epsilon, out=s)
    np.sqrt(s, out=s)
    np.divide(t, s, out=t)  # delta = -sqrt(acc_d + eps) * g / sqrt(acc_g_new + eps)
    np.multiply(t, t, out=s)
    np.multiply(s, 1 - rho, out=s)
    np.multiply(acc_d, rho, out=acc_d_out)
    np.add(acc_d_out, s, out=acc_d_out)  # rho * acc_d + (1 - rho) * delta^2
    np.multiply(t, lr, out=t)
    np.add(_decayed(p_out, p, lr, weight_decay, s), t, out=p_out)


@_rule("lion_update")
def lion_update(outs, p, g, m, t, s, lr, beta_1, beta_2, weight_decay):
    p_out, m_out = outs
    np.multiply(m, beta_1, out=t)
    np.multiply(g, 1 - beta_1, out=s)
    np.add(t, s, out=t)
    np.sign(t, out=t)
    np.multiply(t, lr, out=t)  # lr * sign(beta_1 * m + (1 - beta_1) * g)
    np.multiply(m, beta_2, out=m_out)
    np.multiply(g, 1 - beta_2, out=s)
    np.add(m_out, s, out=m_out)
    np.subtract(_decayed(p_out, p, lr, weight_decay, s), t, out=p_out)
