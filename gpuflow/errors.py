"""Exceptions, named like ``tf.errors`` so TensorFlow code that catches them keeps working."""


class GpuflowError(Exception):
    """Base class of every error gpuflow raises on purpose."""


class InvalidArgumentError(GpuflowError, ValueError):
    """An op got inputs it cannot work with: wrong shapes, dtypes, devices or attributes."""


class ResourceExhaustedError(GpuflowError, MemoryError):
    """The device ran out of memory even after the allocator's cache was freed."""


class KernelError(GpuflowError, RuntimeError):
    """A kernel failed to compile or misbehaved at launch (out-of-bounds write, divergent barrier, ...)."""


class UnimplementedError(GpuflowError, NotImplementedError):
    """The op exists but not for this device or dtype."""


class NotFoundError(GpuflowError, FileNotFoundError):
    """A file or resource gpuflow was asked to load does not exist."""


class UnavailableError(GpuflowError, ConnectionError):
    """A peer is gone: another worker of a multi-worker job died, stopped or closed its connection."""


class DeadlineExceededError(GpuflowError, TimeoutError):
    """An operation (a collective, a rendezvous) did not finish within its time limit."""


class DataLossError(GpuflowError, ValueError):
    """A file gpuflow was asked to load is damaged or inconsistent (tf.errors.DataLossError)."""


class OutOfRangeError(GpuflowError, IndexError):
    """An operation went past the end of its input (tf.errors.OutOfRangeError).

        Differs from TF:
            Iterating a gf.data.Dataset ends with StopIteration, as Python's `for` loops and `next()` expect;
            gpuflow has no `get_next()` that would raise this at the end of a dataset.
    """
