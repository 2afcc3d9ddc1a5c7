"""NcclAllReduce: the GPU all-reduce, on NCCL through CuPy's bindings (cupy.cuda.nccl).

One communicator per local GPU, all made with ncclCommInitRank under one group call: in one process
the unique id comes from get_unique_id() here and the ranks are 0..n-1; with several workers the chief's
id arrives over the worker group (worker_group.py) and each worker's GPUs take the ranks of its replicas.
One process, one GPU (nranks=1) goes through exactly this code, which is what the gpu test runs.

Each all-reduce is one ncclAllReduce per buffer (see buckets.py) per GPU, inside one group call, on
the stream each GPU's work is queued on (CuPy's current stream for that device), so it is ordered
after the backward pass that produced the gradients without a host synchronisation.
Needs gpuflow[distributed] (the nvidia-nccl-cu12 wheel; gpuflow[distributed-cuda13] for CUDA 13).
"""
from __future__ import annotations

from ..errors import UnimplementedError
from ..tensor import Tensor
from .cross_device_ops import CrossDeviceOps

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
        import cupy
        nccl = nccl_module()
        comms = self.communicators(devices, workers)
        out = [[None] * len(per_replica[0]) for _ in devices]
        keep = []  # every send buffer lives until the group is launched (groupEnd may run the calls together)
        nccl.groupStart()
        try:
            for r, (device, comm) in enumerate(zip(devices, comms)):
                with cupy.cuda.Device(device.index):
                    stream = cupy.cuda.get_current_stream()
                    for b, tensor in enumerate(per_replica[r]):
                        send = cupy.ascontiguousarray(tensor._data)
                        recv = cupy.empty_like(send)
                        keep.append(send)
                        comm.allReduce(send.data.ptr, recv.data.ptr, send.size, nccl_type(nccl, tensor.dtype),
                                       nccl.NCCL_SUM, stream.ptr)
                        out[r][b] = Tensor(recv, tensor.dtype, device)
        finally:
            nccl.groupEnd()
        return out

    def abort(self, *_):
        """Abort every communicator (another worker is gone): NCCL calls waiting on it return instead of hanging."""
        for comms in self._comms.values():
            for comm in comms:
                comm.abort()
        self._comms.clear()
