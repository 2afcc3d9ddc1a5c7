"""Mirrored variables: one copy per replica device, identical, read and written per context."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.distribute import MirroredVariable


def test_variables_made_in_scope_are_mirrored_on_every_device(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    with strategy.scope():
        v = gf.Variable([1.0, 2.0], name="v")
        layer = gf.keras.layers.Dense(3)
        layer.build((None, 2))
    assert isinstance(v, MirroredVariable) and isinstance(v, gf.Variable)
    assert isinstance(layer.kernel, MirroredVariable)
    assert v.devices == ("cpu:0", "cpu:1")
    assert [t.device for t in v.values] == ["cpu:0", "cpu:1"]
    assert all(np.array_equal(t.numpy(), layer.kernel.values[0].numpy()) for t in layer.kernel.values)
    assert v.device == "cpu:0" and v.numpy().tolist() == [1.0, 2.0]  # cross-replica: the primary copy
    assert "cpu:1: [1., 2.]" in repr(v)
    assert type(gf.Variable(1.0)) is gf.Variable  # outside the scope: a plain variable again


def test_reads_inside_a_replica_give_its_copy_and_assigns_write_it(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    with strategy.scope():
        v = gf.Variable([1.0, 1.0])

    def fn():
        r = gf.distribute.get_replica_context().replica_id_in_sync_group
        seen = (v.device, v.value().device)
        v.assign_add(gf.constant([float(r), float(r)]))  # each replica writes its own copy
        return seen
    seen = strategy.run(fn)
    assert list(strategy.experimental_local_results(seen)) == [("cpu:0", "cpu:0"), ("cpu:1", "cpu:1")]
    assert [t.numpy().tolist() for t in v.values] == [[1.0, 1.0], [2.0, 2.0]]
    v.assign([5.0, 6.0])  # cross-replica: every copy
    assert [t.numpy().tolist() for t in v.values] == [[5.0, 6.0]] * 2
    v.assign(gf.constant([7.0, 8.0]).to("cpu:1"))  # a value from any device is placed on each
    assert [t.numpy().tolist() for t in v.values] == [[7.0, 8.0]] * 2


def test_gradients_flow_to_each_replicas_copy(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    with strategy.scope():
        w = gf.Variable([[2.0], [3.0]])

    def fn():
        r = float(gf.distribute.get_replica_context().replica_id_in_sync_group + 1)
        with gf.GradientTape() as tape:
            y = gf.reduce_sum(gf.matmul(gf.constant([[r, r]]), w))
        (g,) = tape.gradient(y, [w])
        return g
    grads = strategy.run(fn)
    assert [g.device for g in grads.values] == ["cpu:0", "cpu:1"]
    assert [g.numpy().ravel().tolist() for g in grads.values] == [[1.0, 1.0], [2.0, 2.0]]


def test_initial_value_from_another_device_and_callable(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    with strategy.scope():
        v = gf.Variable(gf.constant([3.0]).to("cpu:1"))
        c = gf.Variable(lambda: gf.ones([2]), trainable=False)
    assert [t.device for t in v.values] == ["cpu:0", "cpu:1"] and float(v) == 3.0
    assert not c.trainable and c.numpy().tolist() == [1.0, 1.0]


def test_model_weights_save_and_load_through_the_primary_copy(two_cpus, tmp_path):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    with strategy.scope():
        model = gf.keras.Sequential([gf.keras.layers.Input((3,)), gf.keras.layers.Dense(2)])
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    for w in model.weights:
        w.assign(gf.zeros(w.shape))
    model.load_weights(path)
    kernel = model.weights[0]
    assert np.abs(kernel.numpy()).sum() > 0
    assert np.array_equal(kernel.values[0].numpy(), kernel.values[1].numpy())


def test_a_variable_made_inside_a_replica_is_mirrored_from_its_value(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    made = []

    def fn():
        if not made:  # the first replica to get here makes it, as an optimizer makes its slots
            made.append(gf.Variable(gf.fill([2], 4.0)))
        return made[0].device
    with strategy.scope():
        devices = strategy.run(fn)
    assert isinstance(made[0], MirroredVariable)
    assert devices.values == ("cpu:0", "cpu:1")
    assert [t.numpy().tolist() for t in made[0].values] == [[4.0, 4.0]] * 2


def test_assign_checks_shape(two_cpus):
    with gf.distribute.MirroredStrategy(two_cpus).scope():
        v = gf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="has shape"):
        v.assign([1.0, 2.0, 3.0])
