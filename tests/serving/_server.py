"""A real gpuflow-serve subprocess on a free 127.0.0.1 port, and a small HTTP client (urllib) for it."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

from child_process import env_with_gpuflow


class Server:
    def __init__(self, args, log_path, timeout=60):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gpuflow.serving", "--rest_api_host=127.0.0.1", "--rest_api_port=0", *args],
            stdout=self._log, stderr=subprocess.STDOUT, env=env_with_gpuflow(GPUFLOW_DEVICE="cpu"))
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(r"Exporting HTTP/REST API at:127\.0\.0\.1:(\d+)", self.log())
            if found:
                self.port = int(found.group(1))
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def call(self, method, path, body=None, raw=None):
        """(HTTP status, parsed JSON body)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        return status, (json.loads(text) if text.startswith((b"{", b"[")) else text.decode())

    def predict(self, path, body):
        return self.call("POST", f"/v1/models/{path}:predict", body)

    def metrics(self) -> str:
        return self.call("GET", "/monitoring/prometheus/metrics")[1]

    def wait_for(self, model, condition, timeout=30, what="the model's status"):
        """Polls GET /v1/models/{model} until condition({version: state}) holds; returns the status list."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.call("GET", f"/v1/models/{model}")
            versions = {int(v["version"]): v for v in body.get("model_version_status", [])} if status == 200 else {}
            if condition({v: s["state"] for v, s in versions.items()}):
                return versions
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"timed out waiting for {what}: {status} {body}\n{self.log()}")
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def write_config(path, text):
    with open(path, "w") as f:
        f.write(text)
    return os.fspath(path)
