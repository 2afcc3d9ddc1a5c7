"""serving/entrypoint.sh, the Docker image's entrypoint: the model at ${MODEL_BASE_PATH}/${MODEL_NAME} as
tensorflow/serving lays it out, later flags winning. (The image build itself needs Docker: docs/serving.md.)"""
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import gpuflow as gf
from child_process import ROOT, env_with_gpuflow

pytestmark = pytest.mark.serving


def test_entrypoint_serves_model_name_under_model_base_path(tmp_path):
    with gf.device("cpu"):
        f = gf.function(lambda x: x + 1.0, input_signature=[gf.TensorSpec((None,), "float32")])
        gf.saved_model.save(None, tmp_path / "models" / "plus_one" / "7", signatures=f)
    log = open(tmp_path / "log.txt", "w")
    process = subprocess.Popen(["sh", os.path.join(ROOT, "serving", "entrypoint.sh"), "--rest_api_host=127.0.0.1",
                                "--rest_api_port=0"], stdout=log, stderr=subprocess.STDOUT,
                               env=env_with_gpuflow(MODEL_NAME="plus_one", MODEL_BASE_PATH=str(tmp_path / "models"),
                                                    GPUFLOW_DEVICE="cpu"))
    try:
        deadline, port = time.monotonic() + 60, None
        while port is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"REST API at:127\.0\.0\.1:(\d+)", (tmp_path / "log.txt").read_text())
            port = found and int(found.group(1))
            time.sleep(0.05)
        assert port, (tmp_path / "log.txt").read_text()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/plus_one/versions/7:predict",
                                         data=json.dumps({"instances": [1.0, 2.0]}).encode(), method="POST")
        while True:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert json.loads(response.read()) == {"predictions": [2.0, 3.0]}
                    break
            except urllib.error.HTTPError as e:  # 503 until version 7 is AVAILABLE
                assert e.code == 503 and time.monotonic() < deadline, e.read()
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
