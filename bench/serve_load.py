"""Load test of gpuflow-serve: concurrent HTTP clients through a version swap, with and without batching.

    python bench/serve_load.py --device cpu                 # 32 clients, 10 s per mode
    python bench/serve_load.py --device cuda --duration 20 --out bench/results

For each mode (no_batching, batching) it saves the digits MLP of the README (trained briefly) as version 1,
starts `python -m gpuflow.serving` on a free 127.0.0.1 port, and runs `--clients` threads that each post
one-row predict requests over a kept-alive connection for `--duration` seconds. Halfway, version 2 (trained
an epoch more) is moved into the base path, as a deployment would; the server loads it and swaps. Every answer
is checked against version 1's or version 2's own prediction for that row: anything else, and any non-200,
is an error. Prints one JSON object: per mode the requests, errors, p50/p99 latency, throughput, how many
answers each version gave and the batches the server ran; and whether both modes had 0 errors and batching's
p99 was no worse. The client threads share this process's interpreter, so on a small machine they, not the
server, may set the pace: compare the two modes of one run, not runs on different machines.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from common import ROOT, metadata, results_path, write_json

BATCHING = """max_batch_size {{ value: {max_batch} }}
batch_timeout_micros {{ value: {timeout} }}
num_batch_threads {{ value: {threads} }}
{allowed}
"""


def train_versions(device, folder):
    """(rows, {version: expected outputs}) after saving versions 1 and 2 under folder/staging."""
    import gpuflow as gf
    gf.keras.utils.set_random_seed(0)
    (x, y), (x_test, _) = gf.keras.datasets.digits.load_data()
    x, x_test = (x / 16.0).astype("float32"), (x_test[:64] / 16.0).astype("float32")
    expected = {}
    with gf.device(device):
        model = gf.keras.Sequential([gf.keras.layers.Flatten(input_shape=(8, 8)),
                                     gf.keras.layers.Dense(128, activation="relu"), gf.keras.layers.Dense(10)])
        model.compile(optimizer="adam", loss=gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        for version in (1, 2):
            model.fit(x, y, epochs=1, verbose=0)
            model.save(os.path.join(folder, "staging", str(version)))
            expected[version] = model.predict(x_test, verbose=0)
    return x_test, expected


class Server:
    def __init__(self, base, device, batching_file, log_path):
        self.log_path = log_path
        args = [sys.executable, "-m", "gpuflow.serving", "--model_name=digits", f"--model_base_path={base}",
                "--rest_api_host=127.0.0.1", "--rest_api_port=0", "--file_system_poll_wait_seconds=0.2"]
        if batching_file:
            args += ["--enable_batching", f"--batching_parameters_file={batching_file}"]
        env = {**os.environ, "GPUFLOW_DEVICE": device,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.port = self._wait(r"Exporting HTTP/REST API at:127\.0\.0\.1:(\d+)", 120)

    def _wait(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with open(self.log_path) as f:
                found = re.search(pattern, f.read())
            if found:
                return int(found.group(1))
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start: {open(self.log_path).read()}")

    def get(self, path):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
        return response.status, body

    def versions(self):
        status, body = self.get("/v1/models/digits")
        return {int(v["version"]): v["state"] for v in json.loads(body)["model_version_status"]} if status == 200 \
            else {}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def client(port, rows, expected, stop, record):
    """Posts one row at a time until `stop`; records (latency s, outcome) with outcome a version or 'error'."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    bodies = [json.dumps({"instances": [row.tolist()]}).encode() for row in rows]
    i = 0
    while not stop.is_set():
        k = i % len(rows)
        start = time.perf_counter()
        try:
            connection.request("POST", "/v1/models/digits:predict", bodies[k],
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            body = response.read()
            outcome = _version_of(json.loads(body), expected, k) if response.status == 200 else "error"
        except (OSError, http.client.HTTPException, ValueError):
            outcome = "error"
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        record.append((time.perf_counter() - start, outcome))
        i += 1
    connection.close()


def _version_of(answer, expected, k):
    got = np.asarray(answer.get("predictions", [[]])[0], "float32")
    for version, outputs in expected.items():
        if got.shape == outputs[k].shape and np.allclose(got, outputs[k], atol=1e-5):
            return version
    return "error"


def run_mode(name, args, folder, rows, expected):
    base = os.path.join(folder, name)
    shutil.copytree(os.path.join(folder, "staging", "1"), os.path.join(base, "1"))
    batching_file = None
    if name == "batching":
        batching_file = os.path.join(folder, "batching.config")
        allowed = "\n".join(f"allowed_batch_sizes: {s}" for s in args.allowed_batch_sizes)
        with open(batching_file, "w") as f:
            f.write(BATCHING.format(max_batch=args.max_batch_size, timeout=args.batch_timeout_micros,
                                    threads=args.num_batch_threads, allowed=allowed))
    server = Server(base, args.device, batching_file, os.path.join(folder, f"{name}.log"))
    try:
        while server.versions().get(1) != "AVAILABLE":
            time.sleep(0.05)
        stop, records = threading.Event(), [[] for _ in range(args.clients)]
        threads = [threading.Thread(target=client, args=(server.port, rows, expected, stop, records[i]))
                   for i in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.duration / 2)
        shutil.copytree(os.path.join(folder, "staging", "2"), os.path.join(folder, "incoming"))
        os.rename(os.path.join(folder, "incoming"), os.path.join(base, "2"))  # appears whole, as a deploy would
        time.sleep(args.duration / 2)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        states = server.versions()
        metrics = server.get("/monitoring/prometheus/metrics")[1]
    finally:
        server.stop()
    return _summary([r for per_client in records for r in per_client], elapsed, states, metrics)


def _summary(records, elapsed, states, metrics):
    latencies = np.array([t for t, _ in records]) * 1000
    outcomes = [o for _, o in records]
    batches = re.findall(r'^gpuflow_serving_batch_size_(count|sum)\{[^}]*\} (\S+)$', metrics, re.M)
    batch = {k: float(v) for k, v in batches}
    return {"requests": len(records), "errors": outcomes.count("error"),
            "p50_ms": round(float(np.percentile(latencies, 50)), 3) if len(records) else None,
            "p99_ms": round(float(np.percentile(latencies, 99)), 3) if len(records) else None,
            "throughput_rps": round(len(records) / elapsed, 1),
            "answered_by_version": {"1": outcomes.count(1), "2": outcomes.count(2)},
            "versions_after": {str(v): s for v, s in sorted(states.items())},
            "batches": int(batch.get("count", 0)),
            "mean_batch_rows": round(batch["sum"] / batch["count"], 2) if batch.get("count") else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="GPUFLOW_DEVICE of the server (cpu, sim, cuda)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per mode")
    parser.add_argument("--modes", default="no_batching,batching")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--batch-timeout-micros", type=int, default=1000)
    parser.add_argument("--num-batch-threads", type=int, default=2)
    parser.add_argument("--allowed-batch-sizes", default="8,16,32",
                        type=lambda s: [int(v) for v in s.split(",") if v])
    parser.add_argument("--out", default=None, help="also write the JSON into this folder (e.g. bench/results)")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = set(modes) - {"no_batching", "batching"}
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}")
    with tempfile.TemporaryDirectory(prefix="serve_load-") as folder:
        rows, expected = train_versions(args.device, folder)
        results = {mode: run_mode(mode, args, folder, rows, expected) for mode in modes}
    checks = {"zero_errors": all(r["errors"] == 0 for r in results.values()),
              "swapped_to_version_2": all(r["versions_after"].get("2") == "AVAILABLE" for r in results.values())}
    if {"batching", "no_batching"} <= set(results):
        checks["batching_p99_no_worse"] = results["batching"]["p99_ms"] <= results["no_batching"]["p99_ms"]
    meta = metadata([args.device])
    report = {"benchmark": "serve_load", "device": args.device, "clients": args.clients,
              "duration_s_per_mode": args.duration,
              "batching_parameters": {"max_batch_size": args.max_batch_size,
                                      "batch_timeout_micros": args.batch_timeout_micros,
                                      "num_batch_threads": args.num_batch_threads,
                                      "allowed_batch_sizes": args.allowed_batch_sizes},
              "load_average_1_5_15": meta["load_average_1_5_15"], "results": results, "checks": checks}
    print(json.dumps(report, indent=1))
    if args.out:
        print(f"wrote {write_json(results_path('serve', meta, args.out), meta, report)}", file=sys.stderr)
    return 0 if checks["zero_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
