"""NcclAllReduce: the GPU all-reduce, on NCCL through CuPy's bindings (cupy.cuda.nccl).

One communicator per local GPU, all made with ncclCommInitRank under one group call: in one process
the unique id comes from get_unique_id() here and the ranks are 0..n-1; with several workers the chief's
id arrives over the worker group (worker_group.py) and each worker's GPUs take the ranks of its replicas.
One process, one GPU (nranks=1) goes through exactly this code, which is what the gpu test runs.

Each all-reduce is one ncclAllReduce per buffer (see buckets.py) per GPU, inside one group call, on a
communication stream of each GPU that first waits (an event, no host synchronisation) for the work queued
so far on that GPU's current stream: the backward pass that produced the buffer. The sums come back with
an event per GPU marking them done. `sum_buffers` makes each GPU's current stream wait for it at once; a
compiled replica step (graph_all_reduce.py) waits only where the update reads the sums, so the NCCL kernels
run beside the rest of the backward pass. The buffers are recorded as used by the communication stream
(gf.memory.record_stream), so the allocator does not hand their memory out again before NCCL is done.
Needs gpuflow[distributed] (the nvidia-nccl-cu12 wheel; gpuflow[distributed-cuda13] for CUDA 13).
"""
from __future__ import annotations

from ..errors import UnimplementedError
from ..runtime import streams
from ..tensor import Tensor
from .cross_device_ops import CrossDeviceOps, count_collectives

_NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
               "int32": "NCCL_INT32", "int64": "NCCL_INT64", "bfloat16": "NCCL_BFLOAT16"}


def nccl_module():
    try:
        from cupy.cuda import nccl
    except ImportError as e:
        raise UnimplementedError(f"NcclAllReduce needs CuPy ({e}); install gpuflow[cuda12,distributed]") from None
    if not getattr(nccl, "available", False):
        raise UnimplementedError("NcclAllReduce: CuPy finds no NCCL library; install gpuflow[distributed] (the "
                                 "nvidia-nccl-cu12 wheel; distributed-cuda13 for CUDA 13)")
    return nccl


def nccl_type(nccl, dtype):
    name = _NCCL_TYPES.get(dtype.name)
    if name is None or not hasattr(nccl, name):
        raise UnimplementedError(f"NcclAllReduce: NCCL cannot sum {dtype.name} tensors here; cast them to float32")
    return getattr(nccl, name)


def unique_id_to_bytes(uid) -> bytes:
    """CuPy's unique id is a tuple of 128 signed chars; bytes travel over the worker group."""
    return bytes(b & 0xFF for b in uid)


def unique_id_from_bytes(data: bytes) -> tuple:
    return tuple(b - 256 if b > 127 else b for b in data)


class NcclAllReduce(CrossDeviceOps):
    """TF's tf.distribute.NcclAllReduce(num_packs=1): every value packed into one buffer by default."""

    def __init__(self, num_packs=1):
        super().__init__(num_packs)
        self._comms = {}  # tuple of local devices → their communicators, made on first use
        self._sides = {}  # device → the stream its NCCL calls run on

    def communicators(self, devices, workers=None):
        key = tuple(devices)
        comms = self._comms.get(key)
        if comms is None:
            import cupy
            nccl = nccl_module()
            if workers is not None and workers.size > 1:  # the chief's id, and this worker's replicas' ranks
                uid = unique_id_from_bytes(workers.broadcast_bytes(
                    unique_id_to_bytes(nccl.get_unique_id()) if workers.rank == 0 else b""))
                nranks, first = workers.size * len(devices), workers.rank * len(devices)
                workers.on_lost(self.abort)  # a dead peer would leave NCCL waiting forever
            else:
                uid, nranks, first = nccl.get_unique_id(), len(devices), 0
            comms = []
            nccl.groupStart()  # several GPUs of one process join in one group, or each init waits for the others
            try:
                for i, device in enumerate(devices):
                    with cupy.cuda.Device(device.index):
                        comms.append(nccl.NcclCommunicator(nranks, uid, first + i))
            finally:
                nccl.groupEnd()
            self._comms[key] = comms
        return comms

    def sum_buffers(self, per_replica, devices, workers=None):
        sums, events = self.start_sum_buffers(per_replica, devices, workers)
        for device, event in zip(devices, events):
            event.wait(streams.current_stream(device))
        return sums

    def start_sum_buffers(self, per_replica, devices, workers=None):
        import cupy
        from ..memory import record_stream
        nccl = nccl_module()
        comms = self.communicators(devices, workers)
        count_collectives(per_replica[0])
        sides = [self._side_stream(device) for device in devices]
        for device, side in zip(devices, sides):  # NCCL reads what the backward pass queued so far
            side.wait_stream(streams.current_stream(device))
        out = [[None] * len(per_replica[0]) for _ in devices]
        keep = []  # every send buffer lives until the group is launched (groupEnd may run the calls together)
        nccl.groupStart()
        try:
            for r, (device, comm, side) in enumerate(zip(devices, comms, sides)):
                with cupy.cuda.Device(device.index):
                    for b, tensor in enumerate(per_replica[r]):
                        send = cupy.ascontiguousarray(tensor._data)
                        recv = cupy.empty_like(send)
                        keep.append(send)
                        comm.allReduce(send.data.ptr, recv.data.ptr, send.size, nccl_type(nccl, tensor.dtype),
                                       nccl.NCCL_SUM, side.ptr)
                        out[r][b] = Tensor(recv, tensor.dtype, device)
                        record_stream(Tensor(send, tensor.dtype, device), side)
                        record_stream(out[r][b], side)
        finally:
            nccl.groupEnd()
        return out, [side.record_event() for side in sides]  # after groupEnd: the group's calls are queued now

    def _side_stream(self, device):
        side = self._sides.get(device)
        if side is None:
            side = self._sides[device] = streams.Stream(device, name=f"nccl {device}")
        return side

    def abort(self, *_):
        """Abort every communicator (another worker is gone): NCCL calls waiting on it return instead of hanging."""
        for comms in self._comms.values():
            for comm in comms:
                comm.abort()
        self._comms.clear()
