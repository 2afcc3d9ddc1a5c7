"""WorkerGroup: the workers of a multi-worker job, each connected to every other over TCP.

It does three jobs. The rendezvous: each worker listens on the port of its own TF_CONFIG address and
connects to every worker of lower rank (the chief is rank 0), so the chief is the meeting point; this is
how the chief publishes NCCL's unique id. Liveness: each worker sends a heartbeat every second and
notices at once when a peer's connection closes (its process died), or after GPUFLOW_PEER_TIMEOUT
seconds (default 20) of silence (it hangs, or its machine is gone); the collective waiting on it then
fails with an error naming that worker, instead of hanging. And the CPU collective backend: all-reduce,
all-gather and broadcast of host arrays. That backend is for tests and development (every worker sends
its whole buffer to every other, O(workers) traffic each); on GPUs, NCCL carries the data.

All-reduce adds the workers' arrays in rank order, ((w0 + w1) + w2) + ..., on every worker, so all get
bit-identical sums.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import json
import os
import queue
import socket
import struct
import threading
import time

import numpy as np

from ..errors import DeadlineExceededError, UnavailableError

HEARTBEAT_S = 1.0
_GOODBYE_WAIT = 2.0  # seconds a failed send waits for the peer's reader to read what the peer last said
_HEADER = struct.Struct("!BQ")  # frame kind, payload length
_HELLO, _DATA, _BEAT, _BYE = range(4)
_TAG = struct.Struct("!Q16s")  # collective sequence number, its name: both sides must be in the same collective


def _seconds(name, default):
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of seconds") from None


def _split(address):
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"worker address {address!r} must be 'host:port'")
    return host.strip("[]"), int(port)


def _recv_exact(sock, n) -> bytes:
    buffer = bytearray()
    while len(buffer) < n:
        try:
            chunk = sock.recv(min(n - len(buffer), 1 << 20))
        except socket.timeout:
            continue  # quiet for a while: liveness is judged by the waiters, from the heartbeats
        if not chunk:
            raise EOFError
        buffer += chunk
    return bytes(buffer)


class _Peer:
    def __init__(self, rank, address, sock, group):
        self.rank, self.address, self.sock, self.group = rank, address, sock, group
        self.inbox = queue.Queue()
        self.send_lock = threading.Lock()
        self.last_heard = time.monotonic()
        self.gone = None  # why it is gone, once it is
        self.reader = threading.Thread(target=self._read, daemon=True, name=f"gpuflow-worker-{rank}-reader")
        self.reader.start()

    def _read(self):
        try:
            while True:
                kind, length = _HEADER.unpack(_recv_exact(self.sock, _HEADER.size))
                payload = _recv_exact(self.sock, length) if length else b""
                self.last_heard = time.monotonic()
                if kind == _DATA:
                    self.inbox.put(payload)
                elif kind == _BYE:
                    self.gone = "left the job (its program ended or closed its strategy)"
                    return
        except (OSError, EOFError):
            if self.gone is None and not self.group.closed:
                self.gone = "closed its connection: its process died or was killed"
                self.group._lost(self)
        finally:
            self.inbox.put(None)  # wakes a waiter

    def send(self, kind, payload=b""):
        with self.send_lock:
            self.sock.sendall(_HEADER.pack(kind, len(payload)))
            if payload:
                self.sock.sendall(payload)

    def __str__(self):
        return f"worker {self.rank} ({self.address})"


class WorkerGroup:
    def __init__(self, addresses, rank, hello=None, collective_timeout=None):
        self.addresses, self.rank, self.size = list(addresses), int(rank), len(addresses)
        self.closed = False
        self.peer_timeout = _seconds("GPUFLOW_PEER_TIMEOUT", 20.0)
        self.collective_timeout = collective_timeout
        self._peers: dict[int, _Peer] = {}
        self._seq = 0
        self._on_lost = []
        self.hellos = {self.rank: dict(hello or {})}  # what each worker said about itself when joining
        if self.size > 1:
            self._connect(_seconds("GPUFLOW_CONNECT_TIMEOUT", 120.0))
            threading.Thread(target=self._heartbeats, daemon=True, name="gpuflow-heartbeats").start()
            atexit.register(self.close)

    # ---- rendezvous -----------------------------------------------------------------------------
    def _fingerprint(self):
        return hashlib.sha256(json.dumps(self.addresses).encode()).hexdigest()[:16]

    def _hello(self):
        return json.dumps({"rank": self.rank, "size": self.size, "cluster": self._fingerprint(),
                           **self.hellos[self.rank]}).encode()

    def _check_hello(self, data, expected_rank=None):
        try:
            hello = json.loads(data)
        except json.JSONDecodeError:
            raise UnavailableError(f"worker {self.rank}: a connection that is not a gpuflow worker reached "
                                   f"{self.addresses[self.rank]}") from None
        rank = hello.get("rank")
        if hello.get("cluster") != self._fingerprint() or hello.get("size") != self.size:
            raise ValueError(f"worker {rank} has a different cluster in its TF_CONFIG than worker {self.rank} "
                             f"({self.addresses}); every worker must be given the same cluster")
        if expected_rank is not None and rank != expected_rank:
            raise ValueError(f"{self.addresses[expected_rank]} answered as worker {rank}, not {expected_rank}")
        self.hellos[rank] = {k: v for k, v in hello.items() if k not in ("rank", "size", "cluster")}
        return rank

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        host, port = _split(self.addresses[self.rank])
        listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        loopback = host in ("localhost", "127.0.0.1", "::1")
        try:
            listener.bind((host if loopback else "", port))  # other hosts: every interface, as TF's servers do
        except OSError as e:
            listener.close()
            raise UnavailableError(f"worker {self.rank}: cannot listen on {self.addresses[self.rank]} ({e}); is "
                                   f"another process using that port?") from None
        listener.listen(self.size)
        try:
            for peer in range(self.rank):
                self._dial(peer, deadline)
            for _ in range(self.rank + 1, self.size):
                self._accept(listener, deadline)
        finally:
            listener.close()

    def _dial(self, peer, deadline):
        host, port = _split(self.addresses[peer])
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise DeadlineExceededError(
                        f"worker {self.rank} could not reach worker {peer} at {self.addresses[peer]}: start every "
                        f"worker of the cluster, each with the same TF_CONFIG cluster and its own task index "
                        f"(GPUFLOW_CONNECT_TIMEOUT sets how long to wait)") from None
                time.sleep(0.2)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _send_frame(sock, _HELLO, self._hello())
        self._check_hello(_read_frame(sock, _HELLO, deadline, self.addresses[peer]), expected_rank=peer)
        self._add_peer(peer, sock)

    def _accept(self, listener, deadline):
        while True:
            listener.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                missing = [r for r in range(self.rank + 1, self.size) if r not in self._peers]
                raise DeadlineExceededError(
                    f"worker {self.rank} waited for worker(s) {missing} to connect to {self.addresses[self.rank]}; "
                    f"start every worker of the cluster (GPUFLOW_CONNECT_TIMEOUT sets how long to wait)") from None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                hello = _read_frame(sock, _HELLO, deadline, "a connecting worker")
                _send_frame(sock, _HELLO, self._hello())  # answered before judging: a mismatch is seen on both ends
                rank = self._check_hello(hello)
            except (UnavailableError, OSError):
                sock.close()
                continue  # a stray connection (a port scanner, a health check): wait for the real worker
            self._add_peer(rank, sock)
            return

    def _add_peer(self, rank, sock):
        sock.settimeout(self.peer_timeout)
        self._peers[rank] = _Peer(rank, self.addresses[rank], sock, self)

    # ---- liveness -------------------------------------------------------------------------------
    def _heartbeats(self):
        while not self.closed:
            time.sleep(HEARTBEAT_S)
            for peer in list(self._peers.values()):
                if peer.gone is not None:
                    continue
                if time.monotonic() - peer.last_heard > self.peer_timeout:
                    peer.gone = f"sent nothing for {self.peer_timeout:g} s: it hangs or its machine is unreachable"
                    peer.inbox.put(None)
                    self._lost(peer)
                    continue
                try:
                    peer.send(_BEAT)
                except OSError:
                    pass  # its reader sees the closed connection

    def on_lost(self, callback):
        """callback(peer description) runs (on a background thread) when a peer is found gone."""
        self._on_lost.append(callback)

    def _lost(self, peer):
        for callback in list(self._on_lost):
            try:
                callback(str(peer))
            except Exception:  # noqa: BLE001 - a failing callback must not hide the loss itself
                pass

    def _lost_error(self, peer, what):
        return UnavailableError(
            f"{peer} {peer.gone}; worker {self.rank} was waiting for it in {what}. A multi-worker job cannot go on "
            f"without every worker: restart them all (with gf.keras.callbacks.BackupAndRestore, training resumes "
            f"from the last completed epoch)")

    # ---- collectives ----------------------------------------------------------------------------
    def _exchange(self, payload: bytes, what: str) -> list:
        """Every worker's payload for this collective, by rank."""
        if self.closed:
            raise RuntimeError(f"{what}: this worker group is closed")
        self._seq += 1
        tag = _TAG.pack(self._seq, what.encode()[:16])
        peers = [self._peers[r] for r in sorted(self._peers)]
        for peer in peers:
            if peer.gone is not None:
                raise self._lost_error(peer, f"{what} #{self._seq}")
            try:
                peer.send(_DATA, tag + payload)
            except OSError:
                # The peer's goodbye, if it said one, may still be unread: its reader tells why it left.
                peer.reader.join(timeout=_GOODBYE_WAIT)
                peer.gone = peer.gone or "closed its connection: its process died or was killed"
                raise self._lost_error(peer, f"{what} #{self._seq}") from None
        got = {self.rank: payload}
        started = time.monotonic()
        for peer in peers:
            data = self._receive(peer, what, started)
            seq, name = _TAG.unpack(data[:_TAG.size])
            if (seq, name) != _TAG.unpack(tag):
                raise RuntimeError(f"{peer} is in collective #{seq} ({name.rstrip(bytes(1)).decode()}) while worker "
                                   f"{self.rank} is in #{self._seq} ({what}): the workers' programs diverged; every "
                                   f"worker must run the same steps")
            got[peer.rank] = data[_TAG.size:]
        return [got[r] for r in range(self.size)]

    def _receive(self, peer, what, started):
        while True:
            try:
                item = peer.inbox.get(timeout=0.25)
            except queue.Empty:
                item = False
            if item:
                return item
            if peer.gone is not None:
                raise self._lost_error(peer, f"{what} #{self._seq}")
            if self.collective_timeout and time.monotonic() - started > self.collective_timeout:
                raise DeadlineExceededError(f"{what} #{self._seq}: {peer} did not take part within "
                                            f"{self.collective_timeout:g} s (CommunicationOptions.timeout_seconds)")

    def all_reduce_sum(self, arrays) -> list:
        """The element-wise sums over workers (in rank order) of same-shaped arrays."""
        arrays = [np.ascontiguousarray(a) for a in arrays]
        parts = self._exchange(b"".join(a.tobytes() for a in arrays), "all_reduce")
        expected = sum(a.nbytes for a in arrays)
        out = None
        for rank, blob in enumerate(parts):
            if len(blob) != expected:
                raise RuntimeError(f"all_reduce: worker {rank} sent {len(blob)} bytes, worker {self.rank} "
                                   f"{expected}: the workers reduce different values")
            pieces, offset = [], 0
            for a in arrays:
                pieces.append(np.frombuffer(blob, dtype=a.dtype, count=a.size, offset=offset).reshape(a.shape))
                offset += a.nbytes
            out = [p.copy() for p in pieces] if out is None else [o + p for o, p in zip(out, pieces)]
        return out

    def all_gather(self, array) -> list:
        """Every worker's array (shapes may differ), by rank."""
        return [_load(blob) for blob in self._exchange(_dump(array), "all_gather")]

    def broadcast_bytes(self, payload: bytes) -> bytes:
        """The chief's (rank 0's) payload, on every worker; the others' payloads are ignored (send b'')."""
        return self._exchange(payload if self.rank == 0 else b"", "broadcast")[0]

    def broadcast_array(self, array):
        return _load(self.broadcast_bytes(_dump(array) if self.rank == 0 else b""))

    def barrier(self):
        self._exchange(b"", "barrier")

    def close(self):
        if self.closed:
            return
        self.closed = True
        for peer in self._peers.values():
            try:
                if peer.gone is None:
                    peer.send(_BYE)
                peer.sock.close()
            except OSError:
                pass


def _send_frame(sock, kind, payload):
    sock.sendall(_HEADER.pack(kind, len(payload)) + payload)


def _read_frame(sock, kind, deadline, who):
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        got, length = _HEADER.unpack(_recv_exact_once(sock, _HEADER.size))
        if got != kind or length > 1 << 16:
            raise UnavailableError(f"{who} did not greet as a gpuflow worker")
        return _recv_exact_once(sock, length)
    except (socket.timeout, EOFError, OSError) as e:
        raise UnavailableError(f"{who} did not complete the gpuflow handshake ({type(e).__name__})") from None


def _recv_exact_once(sock, n):
    """Like _recv_exact, but a timeout is an error (the handshake has a deadline)."""
    buffer = bytearray()
    while len(buffer) < n:
        chunk = sock.recv(n - len(buffer))
        if not chunk:
            raise EOFError
        buffer += chunk
    return bytes(buffer)


def _dump(array) -> bytes:
    out = io.BytesIO()
    np.save(out, np.asarray(array), allow_pickle=False)
    return out.getvalue()


def _load(blob):
    return np.load(io.BytesIO(blob), allow_pickle=False)
