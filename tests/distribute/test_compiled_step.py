"""The compiled replicated step: each replica's step a traced gf.function whose graph holds the gradients'
all-reduce as collective nodes, one per bucket, each started right after the backward op that completes its
bucket; the same sums, in the same order, as the eager step."""
import logging

import numpy as np
import pytest

import gpuflow as gf
from _models import digits, mlp
from gpuflow.distribute.graph_all_reduce import hoist
from gpuflow.graph.ir import COLLECTIVE, Graph, Node
from gpuflow.keras.engine.data_adapter import pack
from gpuflow.ops import PRIMITIVES
from gpuflow.runtime import counters
from gpuflow.runtime.sim.queues import engine

PACKING = {"reshape", "concat"}


def fit_mirrored(devices, reducer, x, y, run_eagerly=False, epochs=1):
    gf.keras.utils.set_random_seed(1)
    strategy = gf.distribute.MirroredStrategy(devices, cross_device_ops=reducer)
    with strategy.scope():
        model = mlp(run_eagerly=run_eagerly)
    history = model.fit(x, y, batch_size=128, epochs=epochs, verbose=0, shuffle=False)
    return model, history.history


def starts(graph):
    return [(i, n) for i, n in enumerate(graph.nodes) if n.prim is COLLECTIVE and n.params["op"] == "all_reduce_start"]


def test_each_bucket_is_one_collective_started_right_after_its_last_gradient(two_cpus):
    x, y = digits()
    model, _ = fit_mirrored(two_cpus, gf.distribute.ReductionToOneDevice(num_packs=2), x[:256], y[:256])
    step = model.train_function
    assert step.experimental_get_tracing_count() == 2  # one trace per replica device, both shapes alike
    for concrete in step.concrete_functions:
        graph = concrete.graph
        found = starts(graph)
        assert [n.params["bucket"] for _, n in found] == [0, 1]
        made_at = {s.index: i for i, n in enumerate(graph.nodes) for s in n.outputs}
        for position, node in found:
            # walk back through the packing ops to the gradients: nothing but packing sits between the op that made
            # the bucket's last gradient and the start of its all-reduce
            packing, frontier, gradients = set(), [node.inputs[0]], []
            while frontier:
                symbol = frontier.pop()
                maker = graph.nodes[made_at[symbol.index]]
                if maker.prim.name in PACKING:
                    packing.add(made_at[symbol.index])
                    frontier.extend(maker.inputs)
                else:
                    gradients.append(made_at[symbol.index])
            between = set(range(max(gradients) + 1, position))
            assert between <= packing, [graph.nodes[i] for i in sorted(between - packing)]
        # bucket 0 holds the last layers' gradients: it starts before the first layer's kernel gradient is made
        first_kernel_grad = max(i for i, n in enumerate(graph.nodes) if n.prim.name == "matmul")
        assert found[0][0] < first_kernel_grad < found[1][0]
        dones = [i for i, n in enumerate(graph.nodes) if n.prim is COLLECTIVE and n.params["op"] == "all_reduce_done"]
        assert len(dones) == 2 and min(dones) > first_kernel_grad
    with counters.measure() as measured:
        step(pack(x[:128], y[:128]))
    assert measured.delta["collectives"] == 2  # one per bucket per step, not per gradient nor per replica
    assert measured.delta["collective_bytes"] == 4 * sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    for w in model.optimizer.variables:  # each replica's compiled step stepped its own copy: still identical
        assert np.array_equal(w.values[0].numpy(), w.values[1].numpy())
    assert int(model.optimizer.iterations.values[1].numpy()) == 3


def test_compiled_and_eager_replicated_steps_agree(two_cpus):
    """The same buckets summed in the same order: the compiled step ends where the eager one does, with the same
    number of collective calls."""
    x, y = digits()
    reducer = gf.distribute.ReductionToOneDevice()
    reducer.bytes_per_pack = 4096  # CommunicationOptions(bytes_per_pack=...): 4 buckets, 40 B, 5 KiB, 512 B, 32 KiB
    x, y = x[:300], y[:300]  # 128, 128, 44: the last batch gets traces of its own
    compiled, h1 = fit_mirrored(two_cpus, reducer, x, y, epochs=2)
    eager, h2 = fit_mirrored(two_cpus, reducer, x, y, run_eagerly=True, epochs=2)
    assert compiled.train_function.experimental_get_tracing_count() == 4
    assert eager.train_function.experimental_get_tracing_count() == 0
    for a, b in zip(compiled.weights, eager.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-6)
    assert h1["accuracy"] == h2["accuracy"]
    counts = []
    for model in (compiled, eager):
        with counters.measure() as measured:
            model.train_function(pack(x[:128], y[:128]))
        counts.append(measured.delta["collectives"])
    assert counts == [4, 4]


def test_each_replica_device_traces_its_own_function(three_cpus, caplog):
    """6 traces (3 devices x 2 batch shapes) are not retraces: no warning about tracing too often."""
    x, y = digits()
    logger = logging.getLogger("gpuflow")  # it does not propagate: listen on it directly
    logger.addHandler(caplog.handler)
    try:
        model, _ = fit_mirrored(three_cpus, None, x[:300], y[:300])
    finally:
        logger.removeHandler(caplog.handler)
    assert model.train_function.experimental_get_tracing_count() == 6
    devices = {c.graph.nodes[0].device for c in model.train_function.concrete_functions}
    assert devices == {gf.devices.parse(d) for d in three_cpus}
    assert not [r for r in caplog.records if "has been traced" in r.getMessage()]


def test_custom_loop_with_a_gf_function_per_replica(two_cpus):
    """strategy.run(gf.function(step)): each replica traces its own graph; all_reduce (SUM and MEAN) becomes
    collective nodes and gives what the eager all_reduce gives."""
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    values = gf.distribute.PerReplica([gf.constant(np.arange(6, dtype=np.float32).reshape(2, 3)).to(d)
                                       for d in two_cpus[:1]] +
                                      [gf.constant(np.full((2, 3), 10.0, np.float32)).to(two_cpus[1])])

    def reduce_both(v):
        ctx = gf.distribute.get_replica_context()
        return ctx.all_reduce("sum", {"a": v, "b": gf.reduce_sum(v)}), ctx.all_reduce("mean", v)

    traced = gf.function(reduce_both)
    with counters.measure() as measured:
        got = strategy.run(traced, args=(values,))
    want = strategy.run(reduce_both, args=(values,))
    assert measured.delta["collectives"] == 2  # one bucket per all_reduce call (the two float32 values pack in one)
    assert traced.experimental_get_tracing_count() == 2
    for g, w in zip(gf.nest.flatten(got), gf.nest.flatten(want)):
        for gv, wv in zip(strategy.experimental_local_results(g), strategy.experimental_local_results(w)):
            assert gv.device == wv.device
            np.testing.assert_array_equal(gv.numpy(), wv.numpy())
    np.testing.assert_array_equal(strategy.experimental_local_results(got[1])[1].numpy(),
                                  (np.arange(6).reshape(2, 3) + 10) / 2)


class _SideStreamSum(gf.distribute.ReductionToOneDevice):
    """NCCL's stream structure on sim: the in-process sum queued on a stream of each device that first waits for
    the replica's stream, an event per device marking it done (or, with wait=False, no event to wait for)."""

    def __init__(self, wait):
        super().__init__()
        self.wait = wait

    def start_sum_buffers(self, per_replica, devices, workers=None):
        sides = [gf.cuda.Stream(d) for d in devices]
        for device, side in zip(devices, sides):
            side.wait_stream(gf.cuda.current_stream(device))
        with gf.cuda.stream(sides[0]), gf.cuda.stream(sides[1]):
            sums = self.sum_buffers(per_replica, devices, workers)
        return sums, [side.record_event() if self.wait else None for side in sides]


@pytest.mark.parametrize("wait", [True, False])
def test_the_done_node_orders_the_replica_after_a_sum_on_another_stream(wait, two_sims):
    """sim checks every buffer's readers against its writers across streams: the done node's wait is what makes
    reading a sum queued on another stream (NCCL's, on cuda) safe."""
    strategy = gf.distribute.MirroredStrategy(two_sims, cross_device_ops=_SideStreamSum(wait))
    step = gf.function(lambda v: gf.distribute.get_replica_context().all_reduce("sum", v * 2.0) + 1.0)
    values = gf.distribute.PerReplica([gf.constant(np.arange(4096, dtype=np.float32)).to("sim:0"),
                                       gf.ones([4096]).to("sim:1")])
    if not wait:
        with pytest.raises(gf.errors.KernelError, match="race on float32.* nothing orders the two"):
            strategy.run(step, args=(values,))
        engine().reset()  # drop the unrun rest of the racy program: later tests start clean
        return
    for out in strategy.run(step, args=(values,)).values:
        np.testing.assert_array_equal(out.numpy(), 2 * np.arange(4096) + 3)


def test_what_a_traced_replica_cannot_do_is_refused(two_cpus):
    strategy = gf.distribute.MirroredStrategy(two_cpus)
    gather = gf.function(lambda v: gf.distribute.get_replica_context().all_gather(v, axis=0))
    with pytest.raises(NotImplementedError, match="merge_call .* inside a gf.function traced in a replica"):
        strategy.run(gather, args=(gf.ones([2]),))

    @gf.function
    def outer(v):
        return strategy.run(lambda t: t * 2, args=(v,))
    with pytest.raises(NotImplementedError, match=r"run inside a gf.function.*strategy.run\(gf.function\(step\)"):
        outer(gf.ones([2]))


def test_hoist_moves_nodes_up_to_their_inputs_keeping_their_order():
    graph = Graph()
    a, b, c, d, e = (graph.new_symbol((), gf.float32) for _ in range(5))
    ops = PRIMITIVES["add"], PRIMITIVES["negative"]
    device = gf.devices.parse("cpu:0")
    make_a = Node(ops[1], [], {}, [a], device)
    make_b = Node(ops[1], [a], {}, [b], device)
    make_c = Node(ops[1], [b], {}, [c], device)
    use_a = Node(ops[1], [a], {}, [d], device)   # movable: its input is ready right after make_a
    use_ab = Node(ops[0], [d, b], {}, [e], device)  # movable: after make_b, and after use_a (moved before it)
    graph.nodes[:] = [make_a, make_b, make_c, use_a, use_ab]
    hoist(graph.nodes, {id(use_a), id(use_ab)})
    assert graph.nodes == [make_a, use_a, make_b, use_ab, make_c]
