"""gf.Module, as tf.Module: variables and sub-modules found by TF's walk of the attributes, names and name
scopes, a training loop on trainable_variables, and a SavedModel of a module's gf.function."""
import numpy as np
import pytest

import gpuflow as gf


class Linear(gf.Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        self.w = gf.Variable(gf.random.normal([n_in, n_out], seed=1), name="w")
        self.b = gf.Variable(gf.zeros([n_out]), name="b")

    @gf.Module.with_name_scope
    def __call__(self, x):
        return x @ self.w + self.b


class Net(gf.Module):
    def __init__(self):
        super().__init__()
        self.layers = [Linear(3, 4), Linear(4, 2, name="head")]
        self.steps = gf.Variable(0, trainable=False, name="steps")
        self.alias = self.layers[0]          # found once
        self.table = {"z": gf.Variable(1.0, name="z"), "a": gf.Variable(2.0, name="a")}
        self.parent = self                   # a cycle: the walk must end

    def __call__(self, x):
        return self.layers[1](gf.nn.relu(self.layers[0](x)))


def test_the_walk_finds_each_variable_once_in_tf_s_order():
    net = Net()
    first, head = net.layers
    # Direct attributes first, sorted by name (alias, layers, parent, steps, table: a before z), then each
    # sub-module's own, depth first, in the order they were found.
    expected = [net.steps, net.table["a"], net.table["z"], first.b, first.w, head.b, head.w]
    assert [id(v) for v in net.variables] == [id(v) for v in expected]
    assert [id(v) for v in net.trainable_variables] == [id(v) for v in expected if v is not net.steps]
    assert net.non_trainable_variables == (net.steps,)
    assert net.submodules == (first, head)


def test_keras_layers_inside_are_sub_modules_and_their_weights_variables():
    class Holder(gf.Module):
        def __init__(self):
            super().__init__()
            self.dense = gf.keras.layers.Dense(2)
            self.dense.build((None, 3))
    holder = Holder()
    assert holder.submodules == (holder.dense,)
    assert [id(v) for v in holder.variables] == [id(v) for v in holder.dense.weights]


def test_names_and_name_scopes():
    assert Net().name == "net" and Linear(1, 1).name == "linear"

    class HTTPServer2Block(gf.Module):
        pass
    assert HTTPServer2Block().name == "http_server2_block"
    with gf.name_scope("outer"):
        inner = Linear(1, 1, name="inner")
    with inner.name_scope as scope:
        assert scope == "outer/inner/"
    for bad in ("my module", "2x", ""):
        with pytest.raises(ValueError, match="must be a valid Python identifier"):
            gf.Module(name=bad)


def test_a_training_loop_over_trainable_variables():
    rng = np.random.default_rng(0)
    x = gf.constant(rng.normal(size=(64, 3)).astype(np.float32))
    y = gf.constant((rng.normal(size=(64, 3)) @ rng.normal(size=(3, 2))).astype(np.float32))
    net = Net()
    optimizer = gf.keras.optimizers.Adam(0.05)

    @gf.function
    def step():
        with gf.GradientTape() as tape:
            loss = gf.reduce_mean(gf.square(net(x) - y))
        grads = tape.gradient(loss, net.trainable_variables)  # None for the table's, which the loss does not use
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, net.trainable_variables) if g is not None])
        return loss
    first = float(step())
    for _ in range(100):
        last = float(step())
    assert last < first / 3


def test_a_module_s_function_saves_with_all_its_variables(tmp_path):
    class Scorer(gf.Module):
        def __init__(self):
            super().__init__()
            self.body = Linear(3, 2)

        @gf.function(input_signature=[gf.TensorSpec([None, 3], gf.float32, name="x")])
        def score(self, x):
            return {"score": self.body(x)}
    scorer = Scorer()
    gf.saved_model.save(scorer, str(tmp_path / "scorer"))
    x = np.ones((2, 3), np.float32)
    loaded = gf.saved_model.load(str(tmp_path / "scorer"))
    served = loaded.signatures["serving_default"](x=gf.constant(x))
    np.testing.assert_allclose(served["score"].numpy(), scorer.score(gf.constant(x))["score"].numpy(), rtol=1e-6)
