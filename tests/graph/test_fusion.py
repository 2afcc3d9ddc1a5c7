"""The fusion pass (gpuflow/graph/fusion): what fuses, what must not, and that generated kernels compute what the
unfused ops compute, on sim; on cpu only optimizer updates group (one NumPy call for all)."""
import numpy as np
import pytest

import gpuflow as gf
from gpuflow.graph.fusion import fuse
from gpuflow.graph.fusion.kernel import FusedKernel
from gpuflow.graph.fusion.multi_update import MultiUpdate
from gpuflow.runtime import counters


@pytest.fixture
def fusion_off():
    """Yields a context that runs with the fusion pass off (the reference), restoring the options after."""
    saved = gf.config.optimizer.get_experimental_options()

    class Off:
        def __enter__(self):
            gf.config.optimizer.set_experimental_options({"fusion": False})

        def __exit__(self, *exc):
            gf.config.optimizer.set_experimental_options({"fusion": True})
    yield Off()
    gf.config.optimizer.set_experimental_options(saved)


def _fused_nodes(fn, *args):
    graph = fuse(fn.get_concrete_function(*args).graph)
    return [n for n in graph.nodes if isinstance(n.prim, (FusedKernel, MultiUpdate))]


def _compare(body, arrays, fusion_off, rtol=1e-6, atol=1e-6, exact=True):
    """body on sim with fusion, with fusion off, and on cpu eagerly: all equal (fused and unfused elementwise
    bit for bit: the same functors, the same rounding; a reduction may add in another order); returns the
    fused nodes."""
    with gf.device("cpu"):
        expected = body(*[gf.constant(a) for a in arrays])
    with gf.device("sim"):
        args = [gf.constant(a) for a in arrays]
        fused_fn = gf.function(body)
        got = fused_fn(*args)
        with fusion_off:
            plain = gf.function(body)(*args)
        nodes = _fused_nodes(fused_fn, *args)
    for e, g, p in zip(gf.nest.flatten(expected), gf.nest.flatten(got), gf.nest.flatten(plain)):
        np.testing.assert_allclose(g.numpy().astype(np.float64), e.numpy().astype(np.float64), rtol=rtol, atol=atol)
        if exact:
            np.testing.assert_array_equal(g.numpy(), p.numpy())
        else:
            np.testing.assert_allclose(g.numpy().astype(np.float64), p.numpy().astype(np.float64), rtol=rtol, atol=atol)
    return nodes


def _rand(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape, bias_shape, kernels", [
    ((4, 5), (5,), 1), ((), (), 1), ((1,), (1,), 1), ((257, 33), (33,), 1),
    ((3, 1, 7), (2, 1), 2)])  # exp(x * 0.1) has x's shape, smaller than the chain's: a kernel of its own
def test_elementwise_chain_with_broadcasting_is_one_kernel(shape, bias_shape, kernels, fusion_off):
    rng = np.random.default_rng(0)
    x, b = _rand(rng, shape), _rand(rng, bias_shape)

    def body(x, b):
        y = gf.nn.relu(x * b + 0.5) - gf.exp(x * 0.1)
        return gf.where(y > 0.2, y, gf.tanh(y))

    nodes = _compare(body, [x, b], fusion_off)
    assert len(nodes) == kernels and all(n.prim.program.reduction is None for n in nodes)
    assert sum(n.params["ops"].count("+") + 1 for n in nodes) == 9


@pytest.mark.parametrize("op", [gf.reduce_sum, gf.reduce_max, gf.reduce_min])
@pytest.mark.parametrize("shape, axis, keepdims", [((6, 5), 0, False), ((6, 5), 1, True), ((4, 3, 5), (0, 2), False),
                                                   ((3, 2000), 1, False), ((7,), 0, False), ((4, 3, 5), 1, True)])
def test_chain_ending_in_a_reduction_with_an_epilogue(op, shape, axis, keepdims, fusion_off):
    rng = np.random.default_rng(1)
    x = _rand(rng, shape)

    def body(x):
        r = op(gf.square(x) - x, axis=axis, keepdims=keepdims)
        return r * 0.5 + 1.0

    nodes = _compare(body, [x], fusion_off, rtol=1e-5, atol=1e-5, exact=op is not gf.reduce_sum)
    assert len(nodes) == 1 and nodes[0].prim.kind == "reduce"


def test_an_intermediate_used_outside_is_an_output_of_the_kernel(fusion_off):
    rng = np.random.default_rng(2)
    x, w = _rand(rng, (8, 6)), _rand(rng, (6, 3))

    def body(x, w):  # ReLU backward's shape: the masked value feeds a GEMM and a column sum
        masked = x * gf.cast(x > 0, gf.float32)
        return gf.matmul(masked, w), gf.reduce_sum(masked, axis=0)

    nodes = _compare(body, [x, w], fusion_off, rtol=1e-5, exact=False)
    assert len(nodes) == 1 and len(nodes[0].outputs) == 2


@pytest.mark.parametrize("dtype", [np.float16, np.float64, "bfloat16"])
def test_half_bfloat16_and_double_chains(dtype, fusion_off):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 9))

    def body(x):
        return gf.reduce_sum(gf.sigmoid(x) * x + x, axis=1) / 3.0

    if dtype == "bfloat16":
        with gf.device("sim"):
            args = [gf.cast(gf.constant(x, gf.float32), gf.bfloat16)]
            got = gf.function(body)(*args)
            with fusion_off:
                plain = gf.function(body)(*args)
        np.testing.assert_array_equal(gf.cast(got, gf.float32).numpy(), gf.cast(plain, gf.float32).numpy())
        return
    _compare(body, [x.astype(dtype)], fusion_off, rtol=2e-2 if dtype == np.float16 else 1e-12, atol=1e-2, exact=False)


def test_integer_and_bool_chains(fusion_off):
    rng = np.random.default_rng(4)
    a = rng.integers(-2**31, 2**31 - 1, (6, 7)).astype(np.int32)
    b = rng.integers(-100, 100, (7,)).astype(np.int32)

    def body(a, b):
        wrapped = a * b + a  # wraps around, as the unfused kernels and NumPy do
        return gf.reduce_sum(gf.cast(gf.logical_and(wrapped > 0, b != 3), gf.int32), axis=0), wrapped

    _compare(body, [a, b], fusion_off)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint32])
def test_8_and_16_bit_and_unsigned_chains(dtype, fusion_off):
    """The small and unsigned integers fuse too, wrapping as the unfused kernels and NumPy do (TF's rule)."""
    rng = np.random.default_rng(8)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, (6, 7), endpoint=True).astype(dtype)
    b = rng.integers(0 if info.min == 0 else -9, 9, (7,)).astype(dtype)

    def body(a, b):
        wrapped = gf.maximum(a * b + a, b) - b
        as_float = gf.cast(wrapped, gf.float32) * 0.5
        return wrapped, as_float, gf.reduce_sum(wrapped, axis=1), gf.reduce_max(gf.cast(a > b, dtype) + a, axis=0)

    nodes = _compare(body, [a, b], fusion_off)
    assert nodes and all(isinstance(n.prim, FusedKernel) for n in nodes)


def test_empty_tensors(fusion_off):
    def body(x):
        return gf.reduce_sum(gf.exp(x) + 1.0, axis=1), gf.exp(x) * 2.0 + 1.0

    _compare(body, [np.zeros((0, 4), np.float32)], fusion_off)
    _compare(body, [np.zeros((3, 0), np.float32)], fusion_off)  # sums over nothing: 0


def test_fusion_keeps_the_order_of_variable_reads_and_assigns(fusion_off):
    with gf.device("sim"):
        v = gf.Variable(np.arange(4, dtype=np.float32))

        @gf.function
        def step(x):
            before = v.read_value() * 1.0   # the old value
            v.assign(v * 2.0 + x)
            after = v.read_value() + 1.0    # the new value, read after the assign
            return before * 3.0, after * 2.0

        b, a = step(gf.ones((4,)))
        np.testing.assert_allclose(b.numpy(), 3 * np.arange(4))
        np.testing.assert_allclose(a.numpy(), 2 * (2 * np.arange(4) + 1 + 1))
        np.testing.assert_allclose(v.numpy(), 2 * np.arange(4) + 1)


def test_a_print_between_stops_an_assign_from_moving():
    from gpuflow.graph.ir import ASSIGN, PRINT
    with gf.device("sim"):
        v = gf.Variable(1.0)

        @gf.function
        def step():
            v.assign(v * 3.0)
            gf.print("v is", v)  # reads the variable from the host: the assign must stay before it
            return v * 2.0 + 1.0

        np.testing.assert_allclose(step().numpy(), 7.0)
        kinds = [n.prim for n in fuse(step.concrete_functions[0].graph).nodes if n.prim in (ASSIGN, PRINT)]
    assert kinds == [ASSIGN, PRINT]


def test_cpu_elementwise_chains_do_not_fuse():
    with gf.device("cpu"):
        fn = gf.function(lambda x: gf.exp(x) * 2.0 + 1.0)
        assert _fused_nodes(fn, gf.ones((3,))) == []


_OPTIMIZERS = [
    lambda: gf.keras.optimizers.Adam(1e-2), lambda: gf.keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: gf.keras.optimizers.RMSprop(1e-2, centered=True), lambda: gf.keras.optimizers.Adam(1e-2, amsgrad=True)]


@pytest.mark.parametrize("make_optimizer", _OPTIMIZERS + [
    lambda: gf.keras.optimizers.SGD(0.05), lambda: gf.keras.optimizers.Adamax(1e-2),
    lambda: gf.keras.optimizers.Adagrad(0.1), lambda: gf.keras.optimizers.AdamW(1e-2, weight_decay=0.1),
    lambda: gf.keras.optimizers.Adadelta(1.0), lambda: gf.keras.optimizers.Lion(1e-3)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_cpu_multi_tensor_update_is_the_per_parameter_updates_bit_for_bit(make_optimizer, dtype, fusion_off):
    """On cpu the grouped update runs the same NumPy rule over each tensor: the weights after training equal the
    unfused step's exactly, the update writes into the variables' own buffers, and the step is one call."""
    rng = np.random.default_rng(7)
    x, y = _rand(rng, (24, 7)).astype(dtype), rng.integers(0, 3, 24).astype(np.int32)

    def train():
        with gf.device("cpu"):
            gf.keras.utils.set_random_seed(2)
            model = gf.keras.Sequential([gf.keras.Input((7,), dtype=dtype),
                                         gf.keras.layers.Dense(5, activation="tanh", dtype=dtype),
                                         gf.keras.layers.Dense(3, dtype=dtype)])
            model.compile(make_optimizer(), gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
            def addresses():  # (holding the buffers themselves would rightly stop the update writing into them)
                return [w._data.__array_interface__["data"][0] for w in model.trainable_weights]
            before = addresses()
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
            kept = addresses() == before
            return [w.numpy() for w in model.weights], model, kept
    fused, model, in_place = train()
    with fusion_off:
        plain, _, _ = train()
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    step = model.make_train_function().concrete_functions[0]
    updates = [n for n in fuse(step.graph).nodes if isinstance(n.prim, MultiUpdate)]
    assert len(updates) == 1 and updates[0].params["parameters"] == 4
    if dtype != "float16":  # (half: computed in float32, then rounded into new buffers)
        assert in_place


def test_cpu_multi_tensor_update_skips_a_non_finite_step():
    """A LossScaleOptimizer's skipped step (apply 0) leaves every parameter and slot as it was, on cpu too."""
    with gf.device("cpu"):
        gf.keras.utils.set_random_seed(3)
        model = gf.keras.Sequential([gf.keras.Input((4,)), gf.keras.layers.Dense(3), gf.keras.layers.Dense(2)])
        model.compile(gf.keras.mixed_precision.LossScaleOptimizer(gf.keras.optimizers.Adam(1e-2)), "mse")
        x, y = np.ones((8, 4), np.float32), np.ones((8, 2), np.float32)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        before = [w.numpy() for w in model.weights if "loss_scale" not in w.name and "iteration" not in w.name]
        model.fit(np.full((8, 4), np.inf, np.float32), y, batch_size=8, epochs=1, verbose=0)
        after = [w.numpy() for w in model.weights if "loss_scale" not in w.name and "iteration" not in w.name]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make_optimizer", _OPTIMIZERS)
def test_multi_tensor_update_equals_per_parameter_updates(make_optimizer, fusion_off):
    rng = np.random.default_rng(5)
    x, y = _rand(rng, (32, 6)), rng.integers(0, 3, 32).astype(np.int32)

    def train():
        with gf.device("sim"):
            gf.keras.utils.set_random_seed(1)
            model = gf.keras.Sequential([gf.keras.Input((6,)), gf.keras.layers.Dense(5, activation="relu"),
                                         gf.keras.layers.Dense(3)])
            model.compile(make_optimizer(), gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
            return [w.numpy() for w in model.weights], model
    fused, model = train()
    with fusion_off:
        plain, _ = train()
    for a, b in zip(fused, plain):  # the fused bias-gradient sums add in another order: float32 tolerance
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    graph = fuse(model.make_train_function().concrete_functions[0].graph)
    updates = [n for n in graph.nodes if isinstance(n.prim, MultiUpdate)]
    assert len(updates) == 1 and updates[0].params["parameters"] == 4


def test_compiled_mlp_step_on_sim_makes_few_launches(fusion_off):
    rng = np.random.default_rng(6)
    x, y = rng.random((64, 20), dtype=np.float32), rng.integers(0, 4, 64).astype(np.int32)

    def launches():
        with gf.device("sim"):
            gf.keras.utils.set_random_seed(0)
            model = gf.keras.Sequential([gf.keras.Input((20,)), gf.keras.layers.Dense(16, activation="relu"),
                                         gf.keras.layers.Dense(4)])
            model.compile("adam", gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            step = model.make_train_function()
            batch = (gf.constant(x), gf.constant(y))
            for _ in range(3):
                step(batch)
            with counters.measure() as measured:
                logs = step(batch)
            return measured.delta, {k: float(v) for k, v in dict(logs).items()}
    fused, fused_logs = launches()
    with fusion_off:
        plain, plain_logs = launches()
    assert fused["launches"] <= plain["launches"] - 20
    assert fused["pool_allocs"] == 0 and fused["d2h"] == 0  # the memory plan serves every buffer
    assert fused_logs == pytest.approx(plain_logs, rel=1e-6)


def test_dump_kernels_writes_the_generated_source(tmp_path, monkeypatch):
    monkeypatch.setenv("GPUFLOW_DUMP_KERNELS", str(tmp_path))
    with gf.device("sim"):
        fn = gf.function(lambda x: gf.reduce_sum(gf.exp(x) * 3.0 - 1.25, axis=0))
        fn(gf.ones((4, 3)))
    files = list(tmp_path.glob("gf_fused_*.cu"))
    assert len(files) == 1
    text = files[0].read_text()
    assert '#include "fused.cuh"' in text and "gf::Exp" in text and "gf::fused::reduce<gf::SumOp<float>>" in text


def test_fused_kernels_run_under_the_sim_race_checker():
    """Queued on a user stream, fused kernels are ops of the sim's queues like any other: with the wait, results
    equal and no race; without it, the race checker names the fused kernel."""
    rng = np.random.default_rng(7)
    x = _rand(rng, (16, 9))
    with gf.device("sim"):
        fn = gf.function(lambda x: (gf.reduce_sum(gf.nn.relu(x) * 2.0, axis=0), gf.exp(x) + 1.0))
        t = gf.constant(x)
        expected = [a.numpy() for a in fn(t)]
        s = gf.cuda.Stream()
        s.wait_stream(gf.cuda.current_stream())
        with gf.cuda.stream(s):
            got = fn(t)
        s.synchronize()
        for e, g in zip(expected, got):
            np.testing.assert_allclose(g.numpy(), e, rtol=1e-6)
        fresh = gf.constant(x) * 3.0  # written on the default stream; s does not wait for it
        try:
            with pytest.raises(gf.errors.KernelError, match="gf_fused_"):
                with gf.cuda.stream(s):
                    fn(fresh)
                s.synchronize()
        finally:
            from gpuflow.runtime.sim.queues import engine
            engine().reset()  # drop the unrun rest of the racy program: later tests start clean
