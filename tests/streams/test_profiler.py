"""gf.profiler writes a Chrome trace (Perfetto / chrome://tracing) with a track per stream and the host steps."""
import json

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.runtime import profiling


def _fit(device, steps=3):
    x = np.random.default_rng(0).normal(size=(8 * steps, 6)).astype(np.float32)
    y = np.arange(8 * steps) % 2
    with gf.device(device):
        model = gf.keras.Sequential([gf.keras.layers.Dense(4, activation="relu"), gf.keras.layers.Dense(2)])
        model.compile("sgd", gf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)


def _load(path):
    data = json.loads(open(path).read())
    events = data["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    for e in spans:
        assert {"name", "cat", "pid", "tid", "ts", "dur"} <= set(e) and e["dur"] >= 0
    processes = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    tracks = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    return spans, processes, tracks


def test_a_sim_fit_shows_kernels_copies_and_steps_on_their_tracks(tmp_path):
    gf.profiler.start(str(tmp_path))
    _fit("sim")
    with gf.profiler.experimental.Trace("after fit"):
        pass
    path = gf.profiler.stop()
    assert path.startswith(str(tmp_path / "plugins" / "profile")) and path.endswith(".trace.json")
    spans, processes, tracks = _load(path)
    names = {(processes[pid], track) for (pid, _), track in tracks.items()}
    assert ("sim:0", "default stream") in names and ("sim:0", "copy stream") in names
    assert any(p == "host" for p, _ in names)
    by_track = {}
    for e in spans:
        by_track.setdefault((processes[e["pid"]], tracks[(e["pid"], e["tid"])]), []).append(e)
    compute = by_track[("sim:0", "default stream")]
    assert {"matmul", "bias_act"} <= {e["name"] for e in compute} and all(e["cat"] in ("compute", "copy") for e in compute)
    copies = by_track[("sim:0", "copy stream")]
    uploads = [e for e in copies if "batch" in e["args"]]
    # besides the batches: the compiled step's host feeds (the optimizer's per-step scalars), on the copy stream too
    assert {e["name"] for e in copies if e not in uploads} <= {"copy host->device (feed)"}
    assert sorted({e["args"]["batch"] for e in uploads}) == [0, 1, 2] and {e["cat"] for e in copies} == {"copy"}
    host = [e["name"] for (p, _), events in by_track.items() if p == "host" for e in events]
    assert ["step 0", "step 1", "step 2"] == [n for n in host if n.startswith("step")]
    # the uploads of batches 1 and 2 ran while the compute stream was busy with an earlier step
    kernels = [(e["ts"], e["ts"] + e["dur"]) for e in compute if e["cat"] == "compute"]
    for e in uploads:
        if e["args"]["batch"] >= 1:
            assert any(min(e["ts"] + e["dur"], end) > max(e["ts"], start) for start, end in kernels)


def test_on_cpu_the_trace_has_the_host_steps(tmp_path):
    gf.profiler.experimental.start(str(tmp_path))
    _fit("cpu", steps=2)
    spans, processes, _ = _load(gf.profiler.experimental.stop())
    assert [e["name"] for e in spans if processes[e["pid"]] == "host"] == ["step 0", "step 1"]


def test_sessions_do_not_nest():
    gf.profiler.start("unused")
    try:
        with pytest.raises(RuntimeError, match="already running"):
            gf.profiler.start("unused")
    finally:
        assert gf.profiler.stop(save=False) is None
    with pytest.raises(RuntimeError, match="no profiling session"):
        profiling.stop()
