"""The cached layer/weight walk (Layer._walk): every structural change invalidates it, and what it returns
is always what a fresh walk of the tree gives."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.keras.engine.base_layer import Layer

keras = gf.keras


def fresh_walk(root):
    """The uncached walk, written out from the tracked attributes: (layers, [(variable, trainable)])."""
    layers, pairs, seen, seen_vars = [], [], set(), set()

    def walk(layer, trainable):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        layers.append(layer)
        trainable = trainable and layer._trainable
        for v in layer._tracked_values():
            if isinstance(v, Layer):
                walk(v, trainable)
            elif id(v) not in seen_vars:
                seen_vars.add(id(v))
                pairs.append((v, trainable and v.trainable))
    walk(root, True)
    return layers, pairs


def assert_current(model):
    layers, pairs = fresh_walk(model)
    assert [id(x) for x in model._flatten_layers()] == [id(x) for x in layers]
    assert [id(v) for v in model.weights] == [id(v) for v, _ in pairs]
    assert [id(v) for v in model.trainable_variables] == [id(v) for v, t in pairs if t]
    assert [id(v) for v in model.non_trainable_variables] == [id(v) for v, t in pairs if not t]


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [keras.layers.Dense(3)]
        self.table = {"a": keras.layers.Dense(2)}
        self.nested = ([keras.layers.Dense(2)],)

    def call(self, x):
        for layer in self.blocks:
            x = layer(x)
        return self.table["a"](x) + self.nested[0][0](x)


def built_block():
    with gf.device("cpu"):
        block = Block()
        block(gf.ones((2, 4)))
    return block


def names(layer):
    return [x.name for x in layer._flatten_layers()]


def test_cache_is_reused_while_nothing_changes():
    block = built_block()
    first = block._walk()
    assert block._walk()[0] is first[0] and block._walk()[1] is first[1]
    block.trainable_variables, block.losses  # readers leave the structure alone
    assert block._walk()[0] is first[0]
    assert_current(block)


def test_attribute_set_and_delete_on_a_sublayer():
    block = built_block()
    inner = block.blocks[0]
    before = len(block.weights)
    with gf.device("cpu"):
        inner.extra = keras.layers.Dense(5)
        inner.extra.build((None, 3))
    assert inner.extra.name in names(block) and len(block.weights) == before + 2
    assert_current(block)
    inner.extra = None  # replaced by a non-layer: it must go
    assert len(block.weights) == before and all("extra" not in n for n in names(block))
    assert_current(block)
    with gf.device("cpu"):
        inner.w = gf.Variable(np.zeros(2, "float32"))
    assert any(v is inner.w for v in block.weights)
    del inner.w
    assert len(block.weights) == before
    assert_current(block)


@pytest.mark.parametrize("mutate", ["append", "setitem", "dict", "nested", "extend_own_weights"])
def test_containers_mutated_in_place(mutate):
    block = built_block()
    with gf.device("cpu"):
        new = keras.layers.Dense(7)
        new.build((None, 3))
    block.weights  # cache the walk: from here on only the in-place mutation below changes the tree
    if mutate == "append":
        block.blocks.append(new)
    elif mutate == "setitem":
        old = block.blocks[0]
        block.blocks[0] = new
        assert old.name not in names(block)
    elif mutate == "dict":
        block.table["b"] = new
    elif mutate == "nested":
        block.nested[0].append(new)
    else:  # a list of weights appended to directly, bypassing add_weight
        with gf.device("cpu"):
            var = gf.Variable(np.zeros(3, "float32"))
        block._own_weights.append(("w", var, None))
        assert block.weights[0] is var
        assert_current(block)
        return
    assert new.name in names(block)
    assert any(v is new.kernel for v in block.trainable_variables)
    assert_current(block)


def test_trainable_flags():
    block = built_block()
    n = len(block.trainable_variables)
    block.blocks[0].trainable = False
    assert len(block.trainable_variables) == n - 2 and len(block.non_trainable_variables) == 2
    assert_current(block)
    block.blocks[0].trainable = True
    block.table["a"].kernel.trainable = False  # a variable's own flag: not a tree change, read every time
    assert len(block.trainable_variables) == n - 1
    assert_current(block)
    block.trainable = False
    assert block.trainable_variables == []
    assert_current(block)


def test_add_weight_and_build():
    with gf.device("cpu"):
        layer = keras.layers.Dense(3)
        assert layer.weights == []
        layer(gf.ones((2, 4)))  # build
        assert len(layer.weights) == 2
        extra = layer.add_weight("extra", shape=(2,), regularizer="l2")
        assert layer.weights[-1] is extra and len(layer.losses) == 1
    assert_current(layer)


def test_sequential_add_and_pop():
    with gf.device("cpu"):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        assert len(model.weights) == 2
        model.add(keras.layers.Dense(2))
        assert len(model.weights) == 4
        assert_current(model)
        model.pop()
        assert len(model.weights) == 2
    assert_current(model)


def test_a_shared_model_sees_changes_made_through_another_tree():
    with gf.device("cpu"):
        shared = keras.layers.Dense(3)
        a = keras.Sequential([keras.Input((4,)), shared])
        b = keras.Sequential([keras.Input((4,)), shared])
        a.weights, b.weights
        shared.trainable = False
    assert a.trainable_variables == [] and b.trainable_variables == []
    assert_current(a)
    assert_current(b)


def test_add_loss_values_are_cleared_per_outermost_call():
    class Adds(keras.layers.Layer):
        def call(self, x):
            self.add_loss(gf.reduce_sum(x))
            return x

    with gf.device("cpu"):
        model = keras.Sequential([keras.Input((2,)), Adds(), keras.layers.Dense(1)])
        model(gf.ones((1, 2)))
        model(gf.ones((1, 2)))
        assert len(model.losses) == 1 and float(model.losses[0]) == 2.0


def test_writes_past_setattr_are_seen():
    block = built_block()
    with gf.device("cpu"):
        a, b = keras.layers.Dense(2), keras.layers.Dense(3)
    block.__dict__["extra"] = None
    block.weights
    block.__dict__["extra"] = a  # an existing name, a new type
    assert a.name in names(block)
    block.__dict__["extra"] = b  # the same type, another object
    assert b.name in names(block) and a.name not in names(block)
    assert_current(block)


def test_training_steps_reuse_the_walk():
    with gf.device("cpu"):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
        model.compile(optimizer="adam", loss="mse")
        x, y = gf.ones((2, 4)), gf.zeros((2, 3))
        model.train_on_batch(x, y)
        layers = model._walk()[0]
        for _ in range(3):
            model.train_on_batch(x, y)
        assert model._walk()[0] is layers
