"""--enable_batching: concurrent requests merge into one batch run (seen in the batch-size metrics), padded to
allowed_batch_sizes, each request getting its own rows back."""
import re
import threading

import numpy as np
import pytest

import gpuflow as gf
from _server import Server, write_config

pytestmark = pytest.mark.serving


def _metric(text, name, **labels):
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{re.escape(shown)}\}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_concurrent_requests_run_as_one_padded_batch(tmp_path):
    with gf.device("cpu"):
        w = gf.Variable(np.array([[1.0], [10.0]], "float32"))
        f = gf.function(lambda x: gf.matmul(x, w), input_signature=[gf.TensorSpec((None, 2), "float32")])
        gf.saved_model.save(None, tmp_path / "m" / "1", signatures=f)
    batching = write_config(tmp_path / "batching.config", """
max_batch_size { value: 8 }
batch_timeout_micros { value: 500000 }
allowed_batch_sizes: 2
allowed_batch_sizes: 4
allowed_batch_sizes: 8
num_batch_threads { value: 1 }
""")
    server = Server(["--model_name=m", f"--model_base_path={tmp_path / 'm'}", "--enable_batching",
                     f"--batching_parameters_file={batching}"], tmp_path / "log.txt")
    try:
        server.wait_for("m", lambda s: s == {1: "AVAILABLE"})
        answers, start = {}, threading.Barrier(6)

        def client(i):
            start.wait()
            answers[i] = server.predict("m", {"instances": [[float(i), 1.0]]})
        threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == {i: (200, {"predictions": [[i + 10.0]]}) for i in range(6)}, "each got its own row"
        text = server.metrics()
        labels = {"model": "m", "version": "1", "signature": "serving_default"}
        batches = _metric(text, "gpuflow_serving_batch_size_count", **labels)
        assert _metric(text, "gpuflow_serving_batch_size_sum", **labels) == 6
        assert 1 <= batches < 6, f"6 concurrent requests ran as {batches:.0f} batches: none merged"
        padded = _metric(text, "gpuflow_serving_padded_batch_size_sum", **labels)
        assert padded > 6 and _metric(text, "gpuflow_serving_padded_batch_size_bucket", le="8.0", **labels) == batches
        status, body = server.predict("m", {"instances": [[1.0, 1.0]] * 9})
        assert status == 400 and "larger than maximum input batch size 8" in body["error"]
        status, body = server.predict("m", {"inputs": [[1.0, 2.0]] * 3})   # 3 rows, padded to 4
        assert body == {"outputs": [[21.0]] * 3}
    finally:
        server.stop()
