"""gf.custom_gradient with tf.custom_gradient's semantics: eagerly, with several inputs and outputs, with
Variables, under a tape inside a gf.function and outside one (nested too), to second order, in a compiled Keras
fit, on sim; and the errors for a grad_fn that does not fit."""
import numpy as np
import pytest

import gpuflow as gf


@gf.custom_gradient
def clip_gradient(x):
    def grad(dy):
        return gf.clip_by_value(dy, -0.1, 0.1)
    return x * 1.0, grad


@gf.custom_gradient
def log1pexp(x):
    e = gf.exp(x)

    def grad(dy):
        return dy * (1 - 1 / (1 + e))  # stays finite where the autodiff of log(1 + e) gives inf / inf
    return gf.math.log(1 + e), grad


def _grad(fn, *xs):
    with gf.GradientTape() as tape:
        tape.watch(list(xs))
        y = fn(*xs)
    return y, tape.gradient(y, list(xs))


def test_the_gradient_is_grad_fn_s(device):
    x = gf.constant([1.0, 100.0, -3.0])
    y, (g,) = _grad(lambda t: gf.reduce_sum(clip_gradient(t) * 5.0), x)
    assert y.numpy() == pytest.approx(490.0)
    np.testing.assert_allclose(g.numpy(), [0.1, 0.1, 0.1])
    _, (g,) = _grad(log1pexp, gf.constant([0.0, 100.0]))
    np.testing.assert_allclose(g.numpy(), [0.5, 1.0])


def test_several_inputs_and_outputs_none_and_unused_outputs():
    @gf.custom_gradient
    def f(a, b, scale):
        def grad(dp, dq):
            return dp * 2.0 + dq, None, None  # b gets no gradient
        return (a * b, a + b), grad
    a, b = gf.constant([1.0, 2.0]), gf.constant([3.0, 4.0])
    _, (ga, gb) = _grad(lambda s, t: gf.reduce_sum(f(s, t, 3.0)[0]), a, b)  # q unused: grad_fn gets zeros for it
    np.testing.assert_array_equal(ga.numpy(), [2.0, 2.0])
    assert gb is None
    _, (ga, _) = _grad(lambda s, t: gf.add_n([gf.reduce_sum(o) for o in f(s, t, 3.0)]), a, b)
    np.testing.assert_array_equal(ga.numpy(), [3.0, 3.0])


def test_an_output_that_is_an_input_stays_distinct():
    @gf.custom_gradient
    def same(x):
        return x, lambda dy: dy * 3.0
    x = gf.constant([1.0, 2.0])
    _, (g,) = _grad(lambda t: gf.reduce_sum(same(t) + t), x)
    np.testing.assert_array_equal(g.numpy(), [4.0, 4.0])  # 3 through same, 1 around it


def test_variables_read_inside_get_grad_fn_s_variable_gradients():
    v = gf.Variable([2.0, 3.0])

    @gf.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            assert [w.name for w in variables] == [v.name]
            return dy * 7.0, [dy * 11.0]
        return x * v, grad
    x = gf.constant([1.0, 1.0])
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = gf.reduce_sum(scale(x))
    gx, gv = tape.gradient(y, [x, v])
    np.testing.assert_array_equal(gx.numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(gv.numpy(), [11.0, 11.0])
    traced = gf.function(lambda t: gf.reduce_sum(scale(t)))
    with gf.GradientTape() as tape:
        tape.watch(x)
        y = traced(x)
    gx, gv = tape.gradient(y, [x, v])
    np.testing.assert_array_equal(gv.numpy(), [11.0, 11.0])


def test_inside_and_outside_a_function_and_nested():
    x = gf.constant([1.0, 100.0])

    @gf.function
    def inside(t):
        with gf.GradientTape() as tape:
            tape.watch(t)
            y = gf.reduce_sum(clip_gradient(t) * 5.0)
        return tape.gradient(y, t)
    for _ in range(2):  # traced once, then replayed
        np.testing.assert_allclose(inside(x).numpy(), [0.1, 0.1])
    outer = gf.function(lambda t: gf.reduce_sum(clip_gradient(t) * 5.0))
    twice = gf.function(lambda t: outer(t) * 2.0)
    for fn in (outer, twice):
        y, (g,) = _grad(fn, x)
        np.testing.assert_allclose(g.numpy(), [0.1, 0.1])
    assert twice(x).numpy() == pytest.approx(1010.0)


def test_second_order_runs_through_grad_fn():
    @gf.custom_gradient
    def square(x):
        return x * x, lambda dy: dy * 2.0 * x
    x = gf.constant([1.0, 3.0])
    with gf.GradientTape() as outer:
        outer.watch(x)
        with gf.GradientTape() as inner:
            inner.watch(x)
            y = gf.reduce_sum(square(x))
        g = inner.gradient(y, x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 6.0])
    np.testing.assert_array_equal(outer.gradient(g, x).numpy(), [2.0, 2.0])


class GradientReversal(gf.keras.layers.Layer):
    """Identity forward, negated gradient backward (domain-adversarial training)."""

    def call(self, x):
        @gf.custom_gradient
        def reverse(t):
            return gf.identity(t), lambda dy: -dy
        return reverse(x)


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_a_keras_layer_with_a_custom_gradient_trains_compiled_and_eagerly(run_eagerly):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)).astype(np.float32), rng.normal(size=(32, 1)).astype(np.float32)

    def train(reverse):
        gf.keras.utils.set_random_seed(1)
        layers = [gf.keras.Input((3,)), gf.keras.layers.Dense(1, use_bias=False)]
        model = gf.keras.Sequential(layers + ([GradientReversal()] if reverse else []))
        model.compile(gf.keras.optimizers.SGD(0.1), "mse", run_eagerly=run_eagerly)
        before = model.weights[0].numpy()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        return model.weights[0].numpy() - before
    plain, reversed_ = train(False), train(True)
    np.testing.assert_allclose(reversed_, -plain, rtol=1e-6)  # one step: the same update, the other way


def test_bad_grad_fns_are_named():
    x = gf.constant([1.0, 2.0])

    @gf.custom_gradient
    def not_a_pair(t):
        return t * 2.0
    with pytest.raises(TypeError, match="must return \\(outputs, grad_fn\\)"):
        not_a_pair(x)

    @gf.custom_gradient
    def too_many(t):
        return t * 2.0, lambda dy: (dy, dy)
    with pytest.raises(ValueError, match="returned 2 argument gradient\\(s\\) .* 1 positional argument"):
        _grad(too_many, x)

    @gf.custom_gradient
    def wrong_shape(t):
        return t * 2.0, lambda dy: gf.reduce_sum(dy)
    with pytest.raises(ValueError, match="gradient 0 has shape \\[\\], but its input has shape \\[2\\]"):
        _grad(wrong_shape, x)

    v = gf.Variable(1.0)

    @gf.custom_gradient
    def no_variables_kwarg(t):
        return t * v, lambda dy: dy
    with pytest.raises(TypeError, match="reads the trainable variable\\(s\\) .* must take a keyword argument"):
        with gf.GradientTape():
            no_variables_kwarg(x)


def test_decorator_with_parentheses_and_no_tape():
    @gf.custom_gradient()
    def double(t):
        return t * 2.0, lambda dy: dy * 2.0
    np.testing.assert_array_equal(double(gf.constant([1.5])).numpy(), [3.0])


def test_a_model_with_a_custom_gradient_saves_for_inference(tmp_path):
    """A SavedModel keeps the forward ops (gradients are not saved, as for every gpuflow SavedModel)."""
    model = gf.keras.Sequential([gf.keras.Input((3,), name="x"), gf.keras.layers.Dense(2), GradientReversal()])
    x = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    gf.saved_model.save(model, str(tmp_path / "model"))
    served = gf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"](x=gf.constant(x))
    np.testing.assert_allclose(next(iter(served.values())).numpy(), model(x).numpy(), rtol=1e-6)
