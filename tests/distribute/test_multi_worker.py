"""MultiWorkerMirroredStrategy with 2 worker processes on 127.0.0.1 (TF_CONFIG, free ports), the CPU collective
backend; every process and wait is bounded in time."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gpuflow as gf
from _models import digits, mlp
from _ports import free_ports

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def start_workers(tmp_path, *extra, per_worker=None):
    """Two worker processes (worker_main.py), TF_CONFIG on fresh free ports; returns (processes, outputs)."""
    addresses = [f"127.0.0.1:{p}" for p in free_ports(2)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]), GPUFLOW_CONNECT_TIMEOUT="60")
    env.pop("GPUFLOW_DEVICE", None)
    procs, outs = [], []
    for index in range(2):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        out = tmp_path / f"worker{index}.npz"
        args = [sys.executable, str(HERE / "worker_main.py"), "--out", str(out), *extra,
                *((per_worker or {}).get(index, []))]
        procs.append(subprocess.Popen(args, env=dict(env, TF_CONFIG=json.dumps(config)), cwd=tmp_path,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs.append(out)
    return procs, outs


def finish(procs, timeout=240):
    results = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        results.append((p.returncode, stdout, stderr))
    return results


def reference_weights(epochs=3, shuffle=True):
    x, y = digits()
    gf.keras.utils.set_random_seed(1)
    model = mlp()
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0, shuffle=shuffle)
    return [w.numpy() for w in model.weights]


def load(path):
    with np.load(path, allow_pickle=False) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


def test_two_workers_end_with_the_weights_of_one_replica(tmp_path):
    procs, outs = start_workers(tmp_path, "--checkpoint", str(tmp_path / "ckpt-TASK-{epoch}.weights.h5"))
    results = finish(procs)
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert "replicas in sync: 2" in stdout
        # compiled: one trace per batch shape (64 and 15 rows per worker); one bucket summed per step (12 x 3)
        assert "replica step traces: 2, collectives: 36" in stdout
    expected = reference_weights()
    for out in outs:
        for got, want in zip(load(out), expected):
            assert np.abs(got - want).max() < 1e-5
    assert [a.tobytes() for a in load(outs[0])] == [a.tobytes() for a in load(outs[1])]
    written = sorted(p.name for p in tmp_path.glob("ckpt-*"))
    assert written == [f"ckpt-0-{e}.weights.h5" for e in (1, 2, 3)]  # the chief's only


def test_a_killed_worker_stops_the_other_naming_it_and_a_restart_resumes(tmp_path):
    backup = tmp_path / "backup"
    procs, _ = start_workers(tmp_path, "--backup", str(backup), "--no-shuffle",
                             per_worker={1: ["--die-at", "1:4"]})
    killed, survivor = procs[1], procs[0]
    try:
        killed_out, _ = killed.communicate(timeout=240)
        died = time.monotonic()
        assert killed.returncode == -9 and "dying now" in killed_out  # SIGKILL, mid-epoch 1
        _, survivor_err = survivor.communicate(timeout=60)
        took = time.monotonic() - died
    finally:
        for p in procs:
            p.kill()
    assert survivor.returncode not in (0, None)
    assert took < 60
    assert "UnavailableError: worker 1 (127.0.0.1:" in survivor_err and "died or was killed" in survivor_err
    assert (backup / "latest.safetensors").exists()  # the chief's backup of epoch 0

    procs, outs = start_workers(tmp_path, "--backup", str(backup), "--no-shuffle")  # both start again
    results = finish(procs)
    for code, stdout, stderr in results:
        assert code == 0, stderr
        assert "epoch 0 begins" not in stdout and "epoch 1 begins" in stdout  # resumed after the backed-up epoch
    expected = reference_weights(shuffle=False)
    for got, want in zip(load(outs[1]), expected):
        assert np.abs(got - want).max() < 1e-5
    assert not backup.exists()


def test_tf_config_and_cluster_resolvers(monkeypatch):
    from gpuflow.distribute.cluster_resolver import (ClusterSpec, SimpleClusterResolver, TFConfigClusterResolver,
                                                     collective_members)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["c:1"], "worker": ["w0:2", "w1:3"]},
                                                "task": {"type": "worker", "index": 1}}))
    resolver = TFConfigClusterResolver()
    assert resolver.cluster_spec().as_dict() == {"chief": ["c:1"], "worker": ["w0:2", "w1:3"]}
    assert (resolver.task_type, resolver.task_id, resolver.master()) == ("worker", 1, "w1:3")
    assert collective_members(resolver) == (["c:1", "w0:2", "w1:3"], 2)  # the chief is rank 0
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        TFConfigClusterResolver().cluster_spec()
    spec = ClusterSpec({"worker": {1: "b:2", 0: "a:1"}})
    assert spec.job_tasks("worker") == ["a:1", "b:2"]
    with pytest.raises(ValueError, match="not in the cluster"):
        collective_members(SimpleClusterResolver(spec, task_type="worker", task_id=5))
    with pytest.raises(ValueError, match="'ps'"):
        collective_members(SimpleClusterResolver({"ps": ["p:1"], "worker": ["a:1"]}, task_type="worker", task_id=0))
    with pytest.raises(ValueError, match="host:port"):
        ClusterSpec({"worker": ["nohostport"]})


def test_without_tf_config_it_trains_alone(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    strategy = gf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 1 and strategy.extended.should_checkpoint
    assert strategy.implementation.name == "RING"
    with pytest.raises(ValueError, match="NCCL needs GPUs"):
        gf.distribute.MultiWorkerMirroredStrategy(communication_options=gf.distribute.experimental.CommunicationOptions(
            implementation=gf.distribute.experimental.CommunicationImplementation.NCCL))
