"""NcclAllReduce. The GPU tests run the one-process path with a single GPU (a communicator of nranks=1), which is
the same code as several GPUs; without a GPU they are skipped."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.distribute import nccl


def test_unique_id_survives_the_trip_as_bytes():
    uid = tuple(((i * 37) % 256) - 128 for i in range(128))  # CuPy's form: 128 signed chars
    data = nccl.unique_id_to_bytes(uid)
    assert len(data) == 128 and nccl.unique_id_from_bytes(data) == uid


def test_nccl_needs_gpus():
    if gf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is here")
    with pytest.raises(ValueError, match="no usable CUDA GPU"):
        gf.distribute.MirroredStrategy(["cuda:0"], cross_device_ops=gf.distribute.NcclAllReduce())


@pytest.mark.gpu
def test_one_gpu_communicator_sums_buffers():
    reducer = gf.distribute.NcclAllReduce()
    device = gf.devices.parse("cuda:0")
    with gf.device("cuda:0"):
        buffers = [gf.constant(np.arange(1000, dtype=np.float32)), gf.constant(np.arange(6, dtype=np.float64))]
    (out,) = reducer.sum_buffers([buffers], [device])
    assert [t.device for t in out] == ["cuda:0", "cuda:0"]
    np.testing.assert_array_equal(out[0].numpy(), np.arange(1000))
    np.testing.assert_array_equal(out[1].numpy(), np.arange(6))
    assert len(reducer.communicators([device])) == 1 and reducer.communicators([device])[0].size() == 1


@pytest.mark.gpu
def test_mirrored_strategy_on_one_gpu_trains_through_nccl():
    from _models import digits, mlp
    x, y = digits()
    strategy = gf.distribute.MirroredStrategy(["cuda:0"], cross_device_ops=gf.distribute.NcclAllReduce())
    out = strategy.run(lambda: gf.distribute.get_replica_context().all_reduce("sum", gf.ones([3])))
    assert out.device == "cuda:0" and out.numpy().tolist() == [1.0, 1.0, 1.0]
    with gf.device("cuda:0"):
        gf.keras.utils.set_random_seed(1)
        plain = mlp()
        plain.fit(x[:512], y[:512], batch_size=128, epochs=1, verbose=0, shuffle=False)
        gf.keras.utils.set_random_seed(1)
        with strategy.scope():
            mirrored = mlp()
        mirrored.fit(x[:512], y[:512], batch_size=128, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(plain.weights, mirrored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


@pytest.mark.gpu
def test_compiled_all_reduce_runs_nccl_on_its_stream():
    """A gf.function traced in the replica: its all-reduce is collective start/done nodes, the sum queued by NCCL on
    a communication stream and waited for by the replica's stream before the values are read."""
    from gpuflow.graph.ir import COLLECTIVE
    from gpuflow.runtime import counters
    strategy = gf.distribute.MirroredStrategy(["cuda:0"], cross_device_ops=gf.distribute.NcclAllReduce(num_packs=None))
    step = gf.function(lambda v: gf.distribute.get_replica_context().all_reduce("sum", [v, v * 2.0]))
    with gf.device("cuda:0"):
        v = gf.constant(np.arange(1000, dtype=np.float32))
    for _ in range(2):  # the trace, then a replay of the graph
        with counters.measure() as measured:
            out = strategy.run(step, args=(v,))
        assert measured.delta["collectives"] == 1
        np.testing.assert_array_equal(out[0].numpy(), np.arange(1000))
        np.testing.assert_array_equal(out[1].numpy(), 2 * np.arange(1000))
    ops = [n.params["op"] for n in step.concrete_functions[0].graph.nodes if n.prim is COLLECTIVE]
    assert ops == ["all_reduce_start", "all_reduce_done"]
