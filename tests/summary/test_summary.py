"""gf.summary: every file is read back with tensorboard's own EventAccumulator."""
from __future__ import annotations

import io
import threading

import numpy as np
import pytest

import gpuflow as gf

tb = pytest.importorskip("tb_events", reason='tensorboard is not installed (pip install "gpuflow[interop]")')
PIL = pytest.importorskip("PIL.Image", reason='Pillow is not installed (pip install "gpuflow[interop]")')

pytestmark = pytest.mark.interop


@pytest.fixture(autouse=True)
def _clean_state():
    yield
    gf.summary.experimental.set_step(None)


def test_scalar_histogram_text_from_device_tensors(tmp_path, device):
    writer = gf.summary.create_file_writer(tmp_path)
    loss = gf.constant(0.25) * 2.0  # made on the test's device (the fixture's gf.device scope)
    weights = gf.constant(np.linspace(-1.0, 1.0, 101, dtype=np.float32))
    assert loss.device.startswith(device)
    with writer.as_default(step=3):
        assert gf.summary.scalar("loss", loss) is True
        assert gf.summary.histogram("weights", weights, buckets=10) is True
        assert gf.summary.text("note", "**bold** step three")
        assert gf.summary.scalar("loss", 0.75, step=4)
    writer.close()

    acc = tb.load(tmp_path)
    assert tb.tags(acc) == {"loss", "weights", "note"}
    assert {tag: tb.plugin(acc, tag) for tag in tb.tags(acc)} == {
        "loss": "scalars", "weights": "histograms", "note": "text"}
    (s0, v0), (s1, v1) = tb.series(acc, "loss")
    assert (s0, s1) == (3, 4) and v0.dtype == np.float32 and (float(v0), float(v1)) == (0.5, 0.75)
    [(step, buckets)] = tb.series(acc, "weights")
    assert step == 3 and buckets.shape == (10, 3)
    assert buckets[0, 0] == -1.0 and buckets[-1, 1] == 1.0 and buckets[:, 2].sum() == 101
    [(_, note)] = tb.series(acc, "note")
    assert note.item() == b"**bold** step three"


def test_histogram_buckets_hold_the_values_they_claim():
    values = np.random.default_rng(0).normal(size=5000)
    buckets = gf.summary.ops.histogram_buckets(values, 30)
    assert buckets.shape == (30, 3)
    np.testing.assert_array_equal(buckets[1:, 0], buckets[:-1, 1])  # contiguous
    assert (buckets[0, 0], buckets[-1, 1]) == (values.min(), values.max())
    counts, _ = np.histogram(values, bins=np.append(buckets[:, 0], buckets[-1, 1]))
    np.testing.assert_array_equal(buckets[:, 2], counts)


def test_histogram_edge_cases():
    constant = gf.summary.ops.histogram_buckets(np.full(7, 2.5), 4)
    np.testing.assert_array_equal(constant, [[2.5, 2.5, 0], [2.5, 2.5, 0], [2.5, 2.5, 0], [2.5, 2.5, 7]])
    assert gf.summary.ops.histogram_buckets(np.array([]), 3).tolist() == [[0, 0, 0]] * 3
    with_nan = gf.summary.ops.histogram_buckets(np.array([0.0, np.nan, 1.0, np.inf]), 2)
    assert with_nan[:, 2].sum() == 2 and (with_nan[0, 0], with_nan[-1, 1]) == (0.0, 1.0)


def _png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(PIL.open(io.BytesIO(data)))


def test_image_writes_pngs_tensorboard_reads(tmp_path):
    rgb = np.random.default_rng(1).random((4, 5, 7, 3)).astype(np.float32)
    rgb[0, 0, 0] = [-1.0, 2.0, 0.5]  # clipped to [0, 1] as TF does
    grey = (np.arange(2 * 3 * 2) * 20).astype(np.uint8).reshape(2, 3, 2, 1)
    writer = gf.summary.create_file_writer(tmp_path)
    with writer.as_default(step=7):
        assert gf.summary.image("rgb", gf.constant(rgb), max_outputs=2)
        assert gf.summary.image("grey", grey)
    writer.close()

    acc = tb.load(tmp_path)
    assert tb.plugin(acc, "rgb") == "images"
    [(step, rgb_tensor)] = tb.series(acc, "rgb")
    assert step == 7 and list(rgb_tensor[:2]) == [b"7", b"5"] and len(rgb_tensor) == 2 + 2  # width, height, 2 images
    expected = (np.clip(rgb[:2], 0, 1) * 255.5).astype(np.uint8)
    for png, pixels in zip(rgb_tensor[2:], expected):
        np.testing.assert_array_equal(_png_pixels(png), pixels)
    [(_, grey_tensor)] = tb.series(acc, "grey")
    assert list(grey_tensor[:2]) == [b"2", b"3"]
    np.testing.assert_array_equal(_png_pixels(grey_tensor[2]), grey[0, ..., 0])


def test_image_rejects_a_shape_without_batch_axis(tmp_path):
    with gf.summary.create_file_writer(tmp_path).as_default(step=0):
        with pytest.raises(ValueError, match=r"image\('x'\).*\[k, h, w, c\].*\(5, 7, 3\)"):
            gf.summary.image("x", np.zeros((5, 7, 3)))


def test_nothing_is_recorded_without_a_writer_or_when_record_if_says_no(tmp_path):
    assert gf.summary.scalar("x", 1.0, step=0) is False
    assert gf.summary.should_record_summaries() is False
    writer = gf.summary.create_file_writer(tmp_path)
    step = {"n": 0}
    with writer.as_default(step=0):
        assert gf.summary.should_record_summaries()
        with gf.summary.record_if(False):
            assert gf.summary.scalar("x", 1.0) is False
            with gf.summary.record_if(True):  # the innermost condition wins
                assert gf.summary.scalar("inner", 1.0)
        with gf.summary.record_if(lambda: step["n"] % 2 == 0):
            for n in range(5):
                step["n"] = n
                gf.summary.scalar("even", float(n), step=n)
    writer.close()
    acc = tb.load(tmp_path)
    assert tb.tags(acc) == {"inner", "even"}
    assert [s for s, _ in tb.series(acc, "even")] == [0, 2, 4]


def test_default_step_set_step_and_restore(tmp_path):
    writer = gf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        with pytest.raises(ValueError, match=r"scalar\('loss'\): no step set.*set_step"):
            gf.summary.scalar("loss", 1.0)
        gf.summary.experimental.set_step(5)
        assert gf.summary.experimental.get_step() == 5
        gf.summary.scalar("loss", 1.0)
        with writer.as_default(step=9):
            assert gf.summary.experimental.get_step() == 9
            gf.summary.scalar("loss", 2.0)
        assert gf.summary.experimental.get_step() == 5
        counter = gf.Variable(11, dtype=gf.int64, trainable=False)  # a variable step is read when writing
        gf.summary.experimental.set_step(counter)
        counter.assign(12)
        gf.summary.scalar("loss", 3.0)
    writer.close()
    assert [(s, float(v)) for s, v in tb.series(tb.load(tmp_path), "loss")] == [(5, 1.0), (9, 2.0), (12, 3.0)]


def test_flush_makes_events_readable_before_close(tmp_path):
    writer = gf.summary.create_file_writer(tmp_path, flush_millis=10**7)
    with writer.as_default(step=1):
        gf.summary.scalar("a", 1.0)
        gf.summary.flush()
        assert tb.tags(tb.load(tmp_path)) == {"a"}
        gf.summary.scalar("b", 2.0)
    assert tb.tags(tb.load(tmp_path)) == {"a", "b"}  # leaving as_default flushes, as in TF
    writer.close()
    writer.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        with writer.as_default(step=0):
            gf.summary.scalar("c", 1.0)


def test_the_default_writer_is_per_thread(tmp_path):
    writer = gf.summary.create_file_writer(tmp_path)
    results = []
    with writer.as_default(step=0):
        worker = threading.Thread(target=lambda: results.append(gf.summary.scalar("other", 1.0, step=0)))
        worker.start()
        worker.join()
    writer.close()
    assert results == [False] and tb.tags(tb.load(tmp_path)) == set()


def test_write_with_raw_metadata_and_bad_scalar(tmp_path):
    from tensorboard.compat.proto import summary_pb2
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="custom"))
    writer = gf.summary.create_file_writer(tmp_path)
    with writer.as_default(step=2):
        assert gf.summary.write("raw", np.arange(6).reshape(2, 3), metadata=metadata.SerializeToString())
        with pytest.raises(ValueError, match=r"scalar\('bad'\): data must be a scalar, got shape \(2,\)"):
            gf.summary.scalar("bad", gf.constant([1.0, 2.0]))
    writer.close()
    acc = tb.load(tmp_path)
    [(step, value)] = tb.series(acc, "raw")
    assert step == 2 and tb.plugin(acc, "raw") == "custom"
    np.testing.assert_array_equal(value, np.arange(6).reshape(2, 3))


def test_graph_def_from_ir_is_read_back_as_the_run_graph(tmp_path):
    from ir_graph import dense_relu_split
    writer = gf.summary.create_file_writer(tmp_path)
    with writer.as_default():
        assert gf.summary.graph(dense_relu_split())
    writer.close()

    graph = tb.load(tmp_path).Graph()
    nodes = {node.name: node for node in graph.node}
    assert [(n.name, n.op, list(n.input)) for n in graph.node] == [
        ("input_0", "Placeholder", []),
        ("captured_1", "Captured", []),
        ("matmul", "matmul", ["input_0", "captured_1"]),
        ("relu", "relu", ["matmul"]),
        ("split", "split", ["relu"]),
        ("reduce_sum", "reduce_sum", ["input_0"]),
        ("matmul_1", "matmul", ["split:1", "split:1"]),
        ("output_0", "Identity", ["split:1"]),
        ("output_1", "Identity", ["reduce_sum"]),
    ]
    shapes = [[d.size for d in s.dim] for s in nodes["split"].attr["_output_shapes"].list.shape]
    assert shapes == [[-1, 3], [-1, 3]]
    assert nodes["reduce_sum"].attr["_output_shapes"].list.shape[0].unknown_rank
    from tensorboard.compat.proto import types_pb2
    assert nodes["matmul"].attr["T"].type == types_pb2.DT_FLOAT
    split = nodes["split"].attr
    assert (split["axis"].i, list(split["sizes"].list.i), split["dtype"].type) == (1, [3, 3], types_pb2.DT_FLOAT)
    reduce = nodes["reduce_sum"].attr
    assert (reduce["keepdims"].b, reduce["scale"].f, reduce["mode"].s) == (False, 0.5, b"sum")
    assert reduce["axis"].s == b"None"  # no AttrValue kind for None: its repr


def test_create_file_writer_needs_a_directory():
    with pytest.raises(ValueError, match="logdir is None"):
        gf.summary.create_file_writer(None)
    noop = gf.summary.create_noop_writer()
    with noop.as_default(step=1):
        assert gf.summary.scalar("x", 1.0) is False
