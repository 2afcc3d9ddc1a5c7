"""GradientTape.jacobian / batch_jacobian and Hessians through nested tapes, against float64 central
finite differences, on cpu and sim; unconnected sources, empty targets, tape reuse rules."""
from __future__ import annotations

import numpy as np
import pytest

import gpuflow as gf

EPS = 1e-6


def numeric_jacobian(f, x):
    """d f(x) / d x by central differences (f: NumPy float64 in, NumPy out): f(x).shape + x.shape."""
    x = np.asarray(x, np.float64)
    cols = []
    for j in range(x.size):
        step = np.zeros(x.size)
        step[j] = EPS
        cols.append((f(x + step.reshape(x.shape)) - f(x - step.reshape(x.shape))) / (2 * EPS))
    out_shape = np.shape(f(x))
    return np.stack(cols, -1).reshape(out_shape + x.shape) if cols else np.zeros(out_shape + x.shape)


def through(fn, device):
    def f(a):
        with gf.device(device):
            return fn(gf.constant(a)).numpy()
    return f


def vector_fn(x):
    return gf.stack([x[0] * x[1], gf.sin(x[2]) * x[0], gf.exp(x[1]), gf.reduce_sum(x * x)])


def matrix_fn(x):  # (2, 3) -> (3, 2)
    return gf.transpose(gf.tanh(x) * gf.constant(np.arange(6.0).reshape(2, 3)) + gf.cumsum(x, axis=1))


@pytest.mark.parametrize("fn,x", [(vector_fn, [0.3, -1.2, 0.7]), (matrix_fn, np.linspace(-1, 1, 6).reshape(2, 3))],
                         ids=["vector", "matrix"])
def test_jacobian_matches_finite_differences(device, fn, x):
    x = np.asarray(x, np.float64)
    xt = gf.constant(x)
    with gf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
    jac = tape.jacobian(y, xt)
    assert jac.shape == tuple(y.shape) + x.shape
    np.testing.assert_allclose(jac.numpy(), numeric_jacobian(through(fn, device), x), rtol=1e-6, atol=1e-8)


def test_jacobian_of_several_sources_and_unconnected(device):
    a, b, c = gf.constant(np.array([1.0, 2.0])), gf.Variable(np.array([[0.5], [1.5]])), gf.constant(np.array([3.0]))
    with gf.GradientTape(persistent=True) as tape:
        tape.watch([a, c])
        y = gf.reshape(gf.matmul(gf.reshape(a, [1, 2]), b), [1]) * a
    jac = tape.jacobian(y, {"a": a, "b": b, "c": c})
    expected_a = np.array([[1 * 0.5 + (0.5 + 3.0), 1.5], [2 * 0.5, 2 * 1.5 + 3.5]])
    np.testing.assert_allclose(jac["a"].numpy(), expected_a)
    np.testing.assert_allclose(jac["b"].numpy(), [[[1.0], [2.0]], [[2.0], [4.0]]])
    assert jac["c"] is None
    zero = tape.jacobian(y, c, unconnected_gradients=gf.UnconnectedGradients.ZERO)
    assert zero.shape == (2, 1) and not zero.numpy().any()


def test_jacobian_empty_target():
    x = gf.constant(np.ones(3))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = x[:0] * 2.0
    assert tape.jacobian(y, x).shape == (0, 3)


def test_tape_reuse_rules():
    x = gf.constant(np.array([1.0, 2.0]))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_allclose(tape.jacobian(y, x).numpy(), np.diag([2.0, 4.0]))
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        tape.jacobian(y, x)
    with gf.GradientTape() as tape2:
        tape2.watch(x)
        y2 = x * x
    with pytest.raises(ValueError, match="experimental_use_pfor=False needs GradientTape\\(persistent=True\\)"):
        tape2.jacobian(y2, x, experimental_use_pfor=False)
    with gf.GradientTape(persistent=True) as tape3:
        tape3.watch(x)
        y3 = x * x
    for _ in range(2):
        np.testing.assert_allclose(tape3.jacobian(y3, x, experimental_use_pfor=False).numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(tape3.gradient(y3, x).numpy(), [2.0, 4.0])


def mlp(x, w1, w2):
    return gf.matmul(gf.tanh(gf.matmul(x, w1)), w2)


def test_batch_jacobian(device):
    r = np.random.default_rng(0)
    x, w1, w2 = r.standard_normal((4, 3)), gf.constant(r.standard_normal((3, 5))), gf.constant(r.standard_normal((5, 2)))
    xt = gf.constant(x)
    with gf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        y = mlp(xt, w1, w2)
    bj = tape.batch_jacobian(y, xt)
    assert bj.shape == (4, 2, 3)
    full = tape.jacobian(y, xt).numpy()  # (4, 2, 4, 3): the batch_jacobian is its diagonal blocks
    np.testing.assert_allclose(bj.numpy(), np.stack([full[b, :, b] for b in range(4)]), rtol=1e-12, atol=1e-12)
    for b in range(4):
        def f(row, b=b):
            return through(lambda t: mlp(gf.reshape(t, [1, 3]), w1, w2)[0], device)(row)
        np.testing.assert_allclose(bj.numpy()[b], numeric_jacobian(f, x[b]), rtol=1e-6, atol=1e-8)


def test_batch_jacobian_shapes_and_errors():
    x = gf.constant(np.ones((0, 3)))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.reshape(x * 2.0, [0, 3, 1])
    assert tape.batch_jacobian(y, x).shape == (0, 3, 1, 3)
    x = gf.constant(np.ones((2, 3)))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.reduce_sum(x, axis=1, keepdims=True)[:1]
    with pytest.raises(gf.errors.InvalidArgumentError, match=r"target \[1, 1\] and source \[2, 3\] need the same first"):
        tape.batch_jacobian(y, x)


def hessian(fn, x):
    with gf.GradientTape() as outer:
        outer.watch(x)
        with gf.GradientTape() as inner:
            inner.watch(x)
            y = fn(x)
        g = inner.gradient(y, x)
    return outer.jacobian(g, x)


def test_hessian_through_nested_tapes(device):
    def fn(x):
        return gf.reduce_sum(gf.exp(x[:2]) * x[1:]) + gf.reduce_logsumexp(x) * x[0]
    x = np.array([0.2, -0.4, 0.9])
    h = hessian(fn, gf.constant(x)).numpy()

    def grad(a):
        with gf.device(device):
            t = gf.constant(a)
            with gf.GradientTape() as tape:
                tape.watch(t)
                y = fn(t)
            return tape.gradient(y, t).numpy()
    np.testing.assert_allclose(h, numeric_jacobian(grad, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-12)


def test_hessian_of_an_mlp_loss_matches_finite_differences():
    r = np.random.default_rng(1)
    x, w2 = gf.constant(r.standard_normal((5, 3))), gf.constant(r.standard_normal((4, 1)))
    w1 = r.standard_normal((3, 4))

    def loss(w):
        return gf.reduce_mean(mlp(x, gf.reshape(w, [3, 4]), w2) ** 2)
    h = hessian(loss, gf.constant(w1.reshape(-1))).numpy()

    def grad(w):
        t = gf.constant(w)
        with gf.GradientTape() as tape:
            tape.watch(t)
            y = loss(t)
        return tape.gradient(y, t).numpy()
    np.testing.assert_allclose(h, numeric_jacobian(grad, w1.reshape(-1)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-12)
