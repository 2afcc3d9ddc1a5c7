"""Every optimizer against a float64 NumPy reference of Keras 3's rule, over several steps and shapes."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras import optimizers as opt
from harness import rand

import optimizer_refs as ref

SHAPES = [(3,), (4, 5), (2, 3, 2), ()]
STEPS = 6

CASES = [
    ("sgd", lambda: opt.SGD(0.1), ref.sgd(), 0.1),
    ("sgd_momentum", lambda: opt.SGD(0.1, momentum=0.9), ref.sgd(0.9), 0.1),
    ("sgd_nesterov", lambda: opt.SGD(0.05, momentum=0.8, nesterov=True), ref.sgd(0.8, True), 0.05),
    ("sgd_weight_decay", lambda: opt.SGD(0.1, weight_decay=0.05), ref.sgd(wd=0.05), 0.1),
    ("adam", lambda: opt.Adam(0.01), ref.adam(), 0.01),
    ("adam_amsgrad", lambda: opt.Adam(0.02, beta_1=0.8, amsgrad=True), ref.adam(b1=0.8, amsgrad=True), 0.02),
    ("adamw", lambda: opt.AdamW(0.01, weight_decay=0.1), ref.adam(wd=0.1), 0.01),
    ("adamw_default", lambda: opt.AdamW(0.01), ref.adam(wd=0.004), 0.01),
    ("adamax", lambda: opt.Adamax(0.01), ref.adamax(), 0.01),
    ("nadam", lambda: opt.Nadam(0.01), ref.nadam(), 0.01),
    ("rmsprop", lambda: opt.RMSprop(0.01), ref.rmsprop(), 0.01),
    ("rmsprop_momentum", lambda: opt.RMSprop(0.01, momentum=0.5), ref.rmsprop(momentum=0.5), 0.01),
    ("rmsprop_centered", lambda: opt.RMSprop(0.01, rho=0.8, centered=True), ref.rmsprop(0.8, centered=True), 0.01),
    ("rmsprop_centered_momentum", lambda: opt.RMSprop(0.01, momentum=0.3, centered=True),
     ref.rmsprop(momentum=0.3, centered=True), 0.01),
    ("adagrad", lambda: opt.Adagrad(0.1), ref.adagrad(), 0.1),
    ("adagrad_init", lambda: opt.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-4),
     ref.adagrad(0.5, 1e-4), 0.1),
    ("adadelta", lambda: opt.Adadelta(1.0), ref.adadelta(), 1.0),
    ("adadelta_rho", lambda: opt.Adadelta(0.5, rho=0.8, epsilon=1e-4), ref.adadelta(0.8, 1e-4), 0.5),
    ("lion", lambda: opt.Lion(0.01), ref.lion(), 0.01),
    ("lion_weight_decay", lambda: opt.Lion(0.01, beta_1=0.8, beta_2=0.95, weight_decay=0.1),
     ref.lion(0.8, 0.95, 0.1), 0.01),
]


def run(optimizer, reference, lr, dtype, clip=None, steps=STEPS):
    """Runs both for `steps` steps on SHAPES with fresh random gradients; returns (ours, expected)."""
    params = [rand(s, "float64", seed=i) for i, s in enumerate(SHAPES)]
    variables = [gf.Variable(p.astype(dtype)) for p in params]
    expected, states = [p.copy() for p in params], [{} for _ in params]
    for t in range(steps):
        grads = [rand(s, "float64", seed=100 * t + i) for i, s in enumerate(SHAPES)]
        optimizer.apply_gradients([(gf.constant(g.astype(dtype)), v) for g, v in zip(grads, variables)])
        if clip is not None:
            grads = clip(grads)
        expected = [reference(p, g, s, lr, t) for p, g, s in zip(expected, grads, states)]
    return [v.numpy() for v in variables], expected


@pytest.mark.parametrize("name,make,reference,lr", CASES, ids=[c[0] for c in CASES])
def test_rule_float64(name, make, reference, lr):
    ours, expected = run(make(), reference, lr, np.float64)
    for a, e in zip(ours, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,make,reference,lr", CASES[::3], ids=[c[0] for c in CASES[::3]])
def test_rule_float32(name, make, reference, lr):
    ours, expected = run(make(), reference, lr, np.float32)
    for a, e in zip(ours, expected):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-6)


def _norm(gs):
    return np.sqrt(sum(float(np.sum(g * g)) for g in gs))


CLIPS = [
    ("clipvalue", dict(clipvalue=0.5), lambda gs: [np.clip(g, -0.5, 0.5) for g in gs]),
    ("clipnorm", dict(clipnorm=0.7), lambda gs: [g * 0.7 / max(_norm([g]), 0.7) for g in gs]),
    ("global_clipnorm", dict(global_clipnorm=1.5), lambda gs: [g * 1.5 / max(_norm(gs), 1.5) for g in gs]),
]


@pytest.mark.parametrize("name,kwargs,clip", CLIPS, ids=[c[0] for c in CLIPS])
def test_clipping(name, kwargs, clip):
    ours, expected = run(opt.Adam(0.01, **kwargs), ref.adam(), 0.01, np.float64, clip=clip)
    for a, e in zip(ours, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)
    # the clip must have bitten somewhere, or this test proves nothing
    unclipped, _ = run(opt.Adam(0.01), ref.adam(), 0.01, np.float64)
    assert any(not np.allclose(a, b) for a, b in zip(ours, unclipped))


def test_half_precision_params_follow_the_rule():
    ours, expected = run(opt.Adam(0.01), ref.adam(), 0.01, np.float16, steps=3)
    for a, e in zip(ours, expected):
        assert a.dtype == np.float16
        np.testing.assert_allclose(a.astype(np.float64), e, rtol=3e-3, atol=3e-3)
