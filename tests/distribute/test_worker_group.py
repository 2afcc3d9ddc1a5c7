"""The worker group (rendezvous, heartbeats, the TCP collective) with its workers as threads of this process,
on 127.0.0.1 only; every wait is bounded."""
import threading
import time

import numpy as np
import pytest

from _ports import free_ports
from gpuflow.distribute.worker_group import WorkerGroup
from gpuflow.errors import DeadlineExceededError, UnavailableError


def start_group(n, monkeypatch, **kwargs):
    monkeypatch.setenv("GPUFLOW_CONNECT_TIMEOUT", "20")
    addresses = [f"127.0.0.1:{p}" for p in free_ports(n)]
    groups, errors = [None] * n, []

    def join(rank):
        try:
            groups[rank] = WorkerGroup(addresses, rank, hello={"replicas": 1}, **kwargs)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(e)
    threads = [threading.Thread(target=join, args=(r,)) for r in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return groups


def on_all(groups, fn):
    """fn(group) on every worker at once (a collective needs them all), results by rank."""
    results, errors = [None] * len(groups), []

    def call(i):
        try:
            results[i] = fn(groups[i])
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(groups))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise errors[0]
    return results


def test_all_reduce_adds_in_rank_order_and_every_worker_gets_the_same_bits(monkeypatch):
    groups = start_group(3, monkeypatch)
    try:
        rng = np.random.default_rng(0)
        values = [rng.standard_normal(1000).astype(np.float32) for _ in range(3)]
        ints = [np.arange(4, dtype=np.int64) * (r + 1) for r in range(3)]
        out = on_all(groups, lambda g: g.all_reduce_sum([values[g.rank], ints[g.rank]]))
        expected = (values[0] + values[1]) + values[2]
        for floats, integers in out:
            assert floats.tobytes() == expected.tobytes()
            np.testing.assert_array_equal(integers, np.arange(4) * 6)
        assert {g.hellos[1]["replicas"] for g in groups} == {1}
    finally:
        for g in groups:
            g.close()


def test_all_gather_and_broadcast(monkeypatch):
    groups = start_group(2, monkeypatch)
    try:
        gathered = on_all(groups, lambda g: g.all_gather(np.full((g.rank + 1, 2), g.rank, np.float64)))
        for parts in gathered:
            assert [p.shape for p in parts] == [(1, 2), (2, 2)]
            assert parts[1][0, 0] == 1.0
        sent = on_all(groups, lambda g: g.broadcast_bytes(b"from the chief" if g.rank == 0 else b"ignored"))
        assert sent == [b"from the chief"] * 2
        arrays = on_all(groups, lambda g: g.broadcast_array(np.arange(3) if g.rank == 0 else None))
        np.testing.assert_array_equal(arrays[1], np.arange(3))
    finally:
        for g in groups:
            g.close()


def test_workers_in_different_collectives_get_a_clear_error(monkeypatch):
    groups = start_group(2, monkeypatch)
    try:
        with pytest.raises(RuntimeError, match="programs diverged"):
            on_all(groups, lambda g: g.barrier() if g.rank == 0 else g.broadcast_bytes(b""))
    finally:
        for g in groups:
            g.close()


def test_a_dead_peer_fails_the_collective_at_once_naming_it(monkeypatch):
    groups = start_group(2, monkeypatch)
    try:
        groups[1]._peers[0].sock.close()  # worker 1 vanishes without a goodbye, as a killed process does
        groups[1].closed = True
        start = time.monotonic()
        with pytest.raises(UnavailableError, match=r"worker 1 \(127\.0\.0\.1:\d+\) closed its connection") as info:
            groups[0].all_reduce_sum([np.ones(3)])
        assert time.monotonic() - start < 10
        assert "BackupAndRestore" in str(info.value)
    finally:
        groups[0].close()


def test_a_silent_peer_is_declared_lost_after_the_peer_timeout(monkeypatch):
    monkeypatch.setenv("GPUFLOW_PEER_TIMEOUT", "2")
    groups = start_group(2, monkeypatch)
    try:
        groups[1].closed = True  # stops its heartbeats, keeps its connection open: a hung process
        start = time.monotonic()
        with pytest.raises(UnavailableError, match="sent nothing for 2 s"):
            groups[0].barrier()
        assert time.monotonic() - start < 10
    finally:
        for g in groups:
            g.closed = False
            g.close()


def test_collective_timeout(monkeypatch):
    groups = start_group(2, monkeypatch, collective_timeout=0.5)
    try:
        with pytest.raises(DeadlineExceededError, match="did not take part within 0.5 s"):
            groups[0].barrier()  # worker 1 never joins, though alive
    finally:
        for g in groups:
            g.close()


def test_a_peer_that_left_is_named(monkeypatch):
    groups = start_group(2, monkeypatch)
    groups[1].close()
    try:
        with pytest.raises(UnavailableError, match="worker 1 .* left the job"):
            groups[0].barrier()
    finally:
        groups[0].close()


def test_rendezvous_times_out_naming_the_missing_worker(monkeypatch):
    monkeypatch.setenv("GPUFLOW_CONNECT_TIMEOUT", "1")
    addresses = [f"127.0.0.1:{p}" for p in free_ports(2)]
    with pytest.raises(DeadlineExceededError, match=r"worker 1 could not reach worker 0 at 127\.0\.0\.1"):
        WorkerGroup(addresses, 1)
    with pytest.raises(DeadlineExceededError, match=r"waited for worker\(s\) \[1\]"):
        WorkerGroup(addresses, 0)


def test_workers_with_different_clusters_are_refused(monkeypatch):
    monkeypatch.setenv("GPUFLOW_CONNECT_TIMEOUT", "5")
    ports = free_ports(3)
    errors = []

    def chief():
        try:
            WorkerGroup([f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"], 0)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    t = threading.Thread(target=chief)
    t.start()
    with pytest.raises(ValueError, match="different cluster"):
        WorkerGroup([f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[2]}"], 1)
    t.join(10)
    assert errors and "different cluster" in str(errors[0])
