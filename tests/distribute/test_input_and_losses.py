"""Distributed datasets (global batch split across replicas), per-replica datasets from a function, values from a
function, and gf.nn.compute_average_loss."""
import numpy as np
import pytest

import gpuflow as gf


def test_distribute_dataset_splits_each_global_batch(three_cpus):
    strategy = gf.distribute.MirroredStrategy(three_cpus)
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    ds = gf.data.Dataset.from_tensor_slices((x, np.arange(10))).batch(8)  # batches of 8, then 2
    batches = list(strategy.experimental_distribute_dataset(ds))
    assert len(batches) == 2
    first_x, first_y = batches[0]
    assert [t.shape[0] for t in first_x.values] == [3, 3, 2]  # as even as it goes, the first replicas one more
    assert [t.device for t in first_x.values] == three_cpus
    assert np.concatenate([t.numpy() for t in first_x.values]).tolist() == x[:8].tolist()
    assert [t.numpy().tolist() for t in batches[1][1].values] == [[8], [9], []]  # fewer rows than replicas
    out = strategy.run(lambda a, b: gf.reduce_sum(a) + gf.cast(gf.reduce_sum(b), gf.float32), args=batches[0])
    assert float(strategy.reduce("sum", out, axis=None)) == float(x[:8].sum() + np.arange(8).sum())


def test_one_replica_gives_plain_batches(two_cpus):
    strategy = gf.distribute.OneDeviceStrategy("cpu:1")
    ds = gf.data.Dataset.from_tensor_slices(np.ones((4, 2), np.float32)).batch(4)
    (batch,) = list(strategy.experimental_distribute_dataset(ds))
    assert isinstance(batch, gf.Tensor) and batch.device == "cpu:1" and batch.shape == (4, 2)


def test_datasets_from_function_deal_per_replica_batches(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    contexts = []

    def dataset_fn(ctx):
        contexts.append(ctx)
        per_replica = ctx.get_per_replica_batch_size(8)
        return gf.data.Dataset.from_tensor_slices(np.arange(16, dtype=np.float32)).batch(per_replica)
    batches = list(strategy.distribute_datasets_from_function(dataset_fn))
    (ctx,) = contexts
    assert (ctx.num_input_pipelines, ctx.input_pipeline_id, ctx.num_replicas_in_sync) == (1, 0, 2)
    assert len(batches) == 2
    assert [t.numpy().tolist() for t in batches[0].values] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [t.device for t in batches[1].values] == two_cpus
    with pytest.raises(ValueError, match="not divisible"):
        ctx.get_per_replica_batch_size(7)


def test_values_from_function(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    values = strategy.experimental_distribute_values_from_function(
        lambda ctx: gf.constant([ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync]))
    assert [t.numpy().tolist() for t in values.values] == [[0, 2], [1, 2]]
    assert [t.device for t in values.values] == two_cpus


def test_compute_average_loss_divides_by_the_global_batch(two_cpus):
    losses = gf.constant([1.0, 2.0, 3.0, 4.0])
    assert float(gf.nn.compute_average_loss(losses, global_batch_size=8)) == pytest.approx(10.0 / 8)
    weighted = gf.nn.compute_average_loss(losses, sample_weight=gf.constant([1.0, 0.0, 1.0, 0.0]), global_batch_size=8)
    assert float(weighted) == pytest.approx(4.0 / 8)
    assert float(gf.nn.compute_average_loss(losses)) == pytest.approx(2.5)  # default strategy: the local batch
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    out = strategy.run(lambda: gf.nn.compute_average_loss(gf.constant([1.0, 3.0])))  # 2 rows x 2 replicas
    assert [float(t) for t in out.values] == [1.0, 1.0]
    assert float(strategy.reduce("sum", out, axis=None)) == 2.0  # = the mean over the global batch
    reg = strategy.run(lambda: gf.nn.scale_regularization_loss(gf.constant(4.0)))
    assert float(strategy.reduce("sum", reg, axis=None)) == 4.0
    with strategy.scope():
        with pytest.raises(RuntimeError, match="cross-replica context"):
            gf.nn.compute_average_loss(losses)
    with pytest.raises(ValueError, match="rank >= 1"):
        gf.nn.compute_average_loss(gf.constant(1.0), global_batch_size=4)
    with pytest.raises(ValueError, match="positive integer"):
        gf.nn.compute_average_loss(losses, global_batch_size=0)
    with pytest.raises(ValueError, match="positive integer"):
        gf.nn.compute_average_loss(losses, global_batch_size=2.5)
