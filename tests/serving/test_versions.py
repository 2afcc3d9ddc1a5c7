"""Versions on disk: a new version appearing under the base path is loaded and takes over without losing a
request, a broken one is reported in its status while the old keeps serving, one still loading answers 503,
and the latest-N / specific policies pick the versions served."""
import os
import threading
import time

import numpy as np
import pytest

import gpuflow as gf
from _server import Server, write_config

pytestmark = pytest.mark.serving


def _save(base, version, scale):
    """A model whose prediction is scale * sum(x): easy to tell versions apart."""
    with gf.device("cpu"):
        v = gf.Variable(np.float32(scale), name="scale")
        f = gf.function(lambda x: {"y": gf.reduce_sum(x, axis=1) * v}, input_signature=[gf.TensorSpec((None, 2))])
        gf.saved_model.save(None, os.path.join(base, str(version)), signatures=f)


def _answer(server, path="m"):
    status, body = server.predict(path, {"instances": [[1.0, 2.0]]})
    return status, (body["predictions"][0] if status == 200 else body["error"])


@pytest.fixture
def base(tmp_path):
    _save(tmp_path / "m", 1, 1.0)
    return tmp_path / "m"


def test_hot_reload_loses_no_request_and_a_broken_version_leaves_the_old_serving(base, tmp_path):
    server = Server(["--model_name=m", f"--model_base_path={base}", "--file_system_poll_wait_seconds=0.1"],
                    tmp_path / "log.txt")
    try:
        server.wait_for("m", lambda s: s == {1: "AVAILABLE"})
        answers, stop = [], threading.Event()

        def client():
            while not stop.is_set():
                answers.append(_answer(server))
        clients = [threading.Thread(target=client) for _ in range(4)]
        for thread in clients:
            thread.start()
        _save(base, 2, 10.0)
        server.wait_for("m", lambda s: s == {2: "AVAILABLE", 1: "END"}, what="version 2 replacing version 1")
        deadline = time.monotonic() + 30
        while sum(a == (200, 30.0) for a in answers) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        for thread in clients:
            thread.join()
        assert {a for a in answers} <= {(200, 3.0), (200, 30.0)}, "every request answered by version 1 or 2"
        assert answers[-1] == (200, 30.0)

        (base / "3").mkdir()
        (base / "3" / "saved_model.json").write_text("{\"format\": \"gpuflow.saved_model\", ")  # broken
        status = server.wait_for("m", lambda s: s.get(3) == "END", what="version 3 failing to load")
        assert status[3]["status"]["error_code"] == "DATA_LOSS"
        assert "not valid JSON" in status[3]["status"]["error_message"]
        assert status[2]["state"] == "AVAILABLE" and _answer(server) == (200, 30.0)
        assert server.predict("m/versions/3", {"instances": [[1.0, 2.0]]})[0] == 404

        _save(tmp_path / "staging", 5, 100.0)  # a version copied in slowly: its tensor file is a pipe, empty yet
        os.remove(tmp_path / "staging" / "5" / "variables" / "variables.safetensors")
        os.mkfifo(tmp_path / "staging" / "5" / "variables" / "variables.safetensors")
        os.rename(tmp_path / "staging" / "5", base / "5")
        server.wait_for("m", lambda s: s.get(5) == "LOADING", what="version 5 loading")
        status, body = server.predict("m/versions/5", {"instances": [[1.0, 2.0]]})
        assert status == 503 and "is loading" in body["error"]
        assert _answer(server) == (200, 30.0), "the latest AVAILABLE version answers meanwhile"
        with open(base / "5" / "variables" / "variables.safetensors", "wb") as pipe:
            pipe.write(b"\x00" * 8)
        status = server.wait_for("m", lambda s: s.get(5) == "END", what="version 5 failing")
        assert status[5]["status"]["error_code"] == "DATA_LOSS" and status[2]["state"] == "AVAILABLE"
    finally:
        server.stop()


def test_version_policies(base, tmp_path):
    for version, scale in ((2, 2.0), (3, 3.0)):
        _save(base, version, scale)
    config = write_config(tmp_path / "models.config", f"""
model_config_list {{
  config {{ name: "latest2" base_path: "{base}" model_version_policy {{ latest {{ num_versions: 2 }} }} }}
  config {{ name: "pinned" base_path: "{base}" model_version_policy {{ specific {{ versions: 1 }} }} }}
}}""")
    server = Server([f"--model_config_file={config}", "--file_system_poll_wait_seconds=0.1"], tmp_path / "log.txt")
    try:
        server.wait_for("latest2", lambda s: s == {3: "AVAILABLE", 2: "AVAILABLE"})
        server.wait_for("pinned", lambda s: s == {1: "AVAILABLE"})
        assert _answer(server, "latest2") == (200, 9.0) and _answer(server, "latest2/versions/2") == (200, 6.0)
        assert _answer(server, "pinned") == (200, 3.0)
        assert server.predict("latest2/versions/1", {"instances": [[1.0, 2.0]]})[0] == 404
        _save(base, 4, 4.0)
        server.wait_for("latest2", lambda s: s == {4: "AVAILABLE", 3: "AVAILABLE", 2: "END"})
        assert _answer(server, "pinned") == (200, 3.0)
    finally:
        server.stop()
