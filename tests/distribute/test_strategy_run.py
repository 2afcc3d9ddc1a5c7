"""strategy.run / reduce / gather, replica contexts and merge_call, on 2-3 logical cpu devices."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.distribute import ReduceOp


def test_logical_devices_as_in_tf(two_cpus):
    cpus = gf.config.list_logical_devices("CPU")
    assert [d.name for d in cpus] == ["/device:CPU:0", "/device:CPU:1"]
    assert len(gf.config.get_logical_device_configuration(gf.config.list_physical_devices("CPU")[0])) == 2
    strategy = gf.distribute.MirroredStrategy(cpus)  # LogicalDevice objects work as device names
    assert strategy.extended.worker_devices == ("cpu:0", "cpu:1")


def test_sim_splits_too():
    from gpuflow import config
    before = dict(config._logical_counts)
    try:
        gf.config.set_logical_device_configuration(gf.config.list_physical_devices("SIM")[0],
                                                   [gf.config.LogicalDeviceConfiguration()] * 2)
        assert [d.name for d in gf.config.list_logical_devices("SIM")] == ["/device:SIM:0", "/device:SIM:1"]
        assert gf.distribute.MirroredStrategy(["sim:0", "sim:1"]).num_replicas_in_sync == 2
    finally:
        config._logical_counts.clear()
        config._logical_counts.update(before)


def test_devices_must_exist():
    with pytest.raises(ValueError, match=r"there are \d+ logical CPU device\(s\); split the CPU first"):
        gf.distribute.MirroredStrategy(["cpu:0", "cpu:7"])
    with pytest.raises(ValueError, match="listed twice"):
        gf.distribute.MirroredStrategy(["cpu:0", "cpu"])
    with pytest.raises(ValueError, match="does not split a GPU"):
        gf.config.set_logical_device_configuration(gf.config.PhysicalDevice("/physical_device:GPU:0", "GPU"),
                                                   [gf.config.LogicalDeviceConfiguration()] * 2)
    with pytest.raises(TypeError, match="PhysicalDevice"):
        gf.config.set_logical_device_configuration("CPU:0", [gf.config.LogicalDeviceConfiguration()])


def test_default_strategy_outside_any_scope():
    strategy = gf.distribute.get_strategy()
    assert not gf.distribute.has_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert not gf.distribute.in_cross_replica_context()
    ctx = gf.distribute.get_replica_context()
    assert ctx is not None and ctx.num_replicas_in_sync == 1 and ctx.replica_id_in_sync_group == 0
    x = gf.constant([1.0, 2.0])
    np.testing.assert_array_equal(ctx.all_reduce("sum", x).numpy(), [1.0, 2.0])
    assert strategy.run(lambda a: a * 2.0, args=(x,)).numpy().tolist() == [2.0, 4.0]
    assert strategy.reduce("sum", x, axis=None) is x
    assert type(gf.Variable(1.0)) is gf.Variable


def test_contexts_inside_scope_and_run(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    with strategy.scope():
        assert gf.distribute.get_strategy() is strategy and gf.distribute.has_strategy()
        assert gf.distribute.in_cross_replica_context()
        assert gf.distribute.get_replica_context() is None
        assert gf.distribute.get_cross_replica_context() is strategy

        def fn():
            ctx = gf.distribute.get_replica_context()
            assert gf.distribute.get_cross_replica_context() is None
            return ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync, gf.zeros([1]).device, ctx.devices
        out = strategy.run(fn)
    assert [v for v in strategy.experimental_local_results(out)] == [
        (0, 2, "cpu:0", ("cpu:0",)), (1, 2, "cpu:1", ("cpu:1",))]
    assert gf.distribute.get_strategy() is not strategy


def test_run_splits_per_replica_args_and_copies_tensors(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: gf.constant([float(ctx.replica_id_in_sync_group)]))
    shared = gf.constant([10.0])
    out = strategy.run(lambda a, b, scale=1.0: (a + b) * scale, args=(per_replica, shared), kwargs={"scale": 2.0})
    assert isinstance(out, gf.distribute.PerReplica)
    assert [t.device for t in out.values] == ["cpu:0", "cpu:1"]
    assert [t.numpy().tolist() for t in out.values] == [[20.0], [22.0]]
    assert "PerReplica" in repr(out)


def test_all_reduce_sum_and_mean_of_nests(three_cpus):
    strategy = gf.distribute.MirroredStrategy(three_cpus)

    def fn():
        ctx = gf.distribute.get_replica_context()
        r = float(ctx.replica_id_in_sync_group)
        value = {"a": gf.constant([r, 1.0]), "b": [gf.constant(r * 10.0), gf.constant([[r]] * 2)]}
        return ctx.all_reduce(ReduceOp.SUM, value), ctx.all_reduce("mean", value["a"])
    total, mean = strategy.run(fn)
    for i, t in enumerate(strategy.experimental_local_results(total)):
        assert t["a"].device == f"cpu:{i}"
        np.testing.assert_array_equal(t["a"].numpy(), [3.0, 3.0])
        assert float(t["b"][0]) == 30.0
        np.testing.assert_array_equal(t["b"][1].numpy(), [[3.0], [3.0]])
    for t in strategy.experimental_local_results(mean):
        np.testing.assert_array_equal(t.numpy(), [1.0, 1.0])


def test_all_reduce_is_the_rank_order_sum_bit_for_bit(three_cpus):
    strategy = gf.distribute.MirroredStrategy(three_cpus)
    rng = np.random.default_rng(0)
    parts = [(rng.standard_normal(5000) * 10.0 ** rng.integers(-3, 4, 5000)).astype(np.float32) for _ in range(3)]
    values = strategy.experimental_distribute_values_from_function(
        lambda ctx: gf.constant(parts[ctx.replica_id_in_sync_group]))
    out = strategy.run(lambda v: gf.distribute.get_replica_context().all_reduce("sum", v), args=(values,))
    expected = (parts[0] + parts[1]) + parts[2]
    for t in out.values:
        assert t.numpy().tobytes() == expected.tobytes()


def test_all_gather_in_replica_order(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)

    def fn():
        ctx = gf.distribute.get_replica_context()
        r = ctx.replica_id_in_sync_group
        return ctx.all_gather(gf.fill([r + 1, 2], float(r)), axis=0)
    for t in strategy.run(fn).values:
        np.testing.assert_array_equal(t.numpy(), [[0, 0], [1, 1], [1, 1]])


def test_merge_call_groups_arguments_per_replica(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    seen = []

    def merge(s, value, same):
        seen.append((s, value, same))
        assert gf.distribute.in_cross_replica_context()
        return gf.distribute.PerReplica([v * 2.0 for v in value.values])

    shared = object()

    def fn():
        ctx = gf.distribute.get_replica_context()
        return ctx.merge_call(merge, args=(gf.constant(float(ctx.replica_id_in_sync_group) + 1.0), shared))
    out = strategy.run(fn)
    assert len(seen) == 1 and seen[0][0] is strategy and seen[0][2] is shared
    assert isinstance(seen[0][1], gf.distribute.PerReplica)
    assert [float(t) for t in out.values] == [2.0, 4.0]


def test_replicas_take_turns_in_order(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    log = []

    def fn():
        ctx = gf.distribute.get_replica_context()
        log.append(("before", ctx.replica_id_in_sync_group))
        ctx.all_reduce("sum", gf.constant(1.0))
        log.append(("after", ctx.replica_id_in_sync_group))
    strategy.run(fn)
    assert log == [("before", 0), ("before", 1), ("after", 0), ("after", 1)]


def test_an_error_in_one_replica_is_raised_and_the_others_stop(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    reached = []

    def fn():
        ctx = gf.distribute.get_replica_context()
        if ctx.replica_id_in_sync_group == 1:
            raise KeyError("replica 1 fails")
        ctx.all_reduce("sum", gf.constant(1.0))
        reached.append("after all_reduce")
    with pytest.raises(KeyError, match="replica 1 fails"):
        strategy.run(fn)
    assert reached == []
    assert strategy.run(lambda: 1) == 1  # the strategy is still usable; the same object from both: not PerReplica


def test_replicas_that_disagree_on_collectives(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)

    def unequal():
        ctx = gf.distribute.get_replica_context()
        if ctx.replica_id_in_sync_group == 0:
            ctx.all_reduce("sum", gf.constant(1.0))
    with pytest.raises(RuntimeError, match="every replica must make the same collective calls"):
        strategy.run(unequal)

    def shapes():
        ctx = gf.distribute.get_replica_context()
        return ctx.all_reduce("sum", gf.zeros([ctx.replica_id_in_sync_group + 1]))
    with pytest.raises(ValueError, match=r"replica 1 gave different values than replica 0 \(value 0: float32\[2\] vs "
                                         r"float32\[1\]\)"):
        strategy.run(shapes)
    with pytest.raises(RuntimeError, match="does not nest"):
        strategy.run(lambda: strategy.run(lambda: 1))


def test_reduce_and_gather_from_cross_replica_context(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    values = strategy.experimental_distribute_values_from_function(
        lambda ctx: gf.constant([[1.0, 2.0]] * (ctx.replica_id_in_sync_group + 1)))  # 1 row, then 2 rows
    np.testing.assert_array_equal(strategy.reduce("sum", values, axis=0).numpy(), [3.0, 6.0])
    np.testing.assert_allclose(strategy.reduce(ReduceOp.MEAN, values, axis=0).numpy(), [1.0, 2.0])  # over 3 rows
    same = strategy.experimental_distribute_values_from_function(lambda ctx: gf.constant([2.0, 4.0]))
    np.testing.assert_array_equal(strategy.reduce("mean", same, axis=None).numpy(), [2.0, 4.0])
    result = strategy.reduce("sum", same, axis=None)
    assert result.device == "cpu:0"
    np.testing.assert_array_equal(result.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(strategy.gather(values, axis=0).numpy(), [[1.0, 2.0]] * 3)
    assert strategy.reduce("mean", gf.constant(5.0), axis=None).numpy() == 5.0
    with pytest.raises(ValueError, match="not a per-replica value"):
        strategy.reduce("sum", gf.constant(5.0), axis=None)
    with pytest.raises(RuntimeError, match="cross-replica context"):
        strategy.run(lambda: strategy.reduce("sum", gf.constant(1.0), axis=None))
    with pytest.raises(ValueError, match="unknown reduce op"):
        strategy.reduce("max", same, axis=None)


def test_one_device_strategy_places_variables_and_runs_there(two_cpus):
    strategy = gf.distribute.OneDeviceStrategy("cpu:1")
    with strategy.scope():
        v = gf.Variable([1.0, 2.0])
    assert v.device == "cpu:1" and strategy.num_replicas_in_sync == 1
    out = strategy.run(lambda: v * 2.0)
    assert out.device == "cpu:1" and out.numpy().tolist() == [2.0, 4.0]


def test_mixing_strategies_is_refused(two_cpus):
    a = gf.distribute.MirroredStrategy(two_cpus)
    b = gf.distribute.OneDeviceStrategy("cpu:0")
    with a.scope():
        with pytest.raises(ValueError, match="Mixing different gf.distribute strategies"):
            with b.scope():
                pass
