"""Files that appear whole or not at all (models, weights, checkpoints, backups), and safetensors bytes read back.

A file is written under a temporary name beside its target, flushed to the disk, and renamed over
the target; a save that fails removes its temporary file. A process killed mid-save (kill -9, a
lost node) cannot remove its own, so the temporary name records the host and process id of its
writer, and the next save to the same path removes those whose writer is gone.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import tempfile

import ml_dtypes
import numpy as np


@contextlib.contextmanager
def atomic_file(path):
    """Yields a fresh temporary path beside `path` for the caller to write. If the block succeeds,
    the file is fsynced, given the permissions a plainly created file would get (0o666 less the
    umask; mkstemp makes it 0o600) and renamed over `path`, and the directory is fsynced: after a
    crash or power loss `path` holds the old file or the new one, whole. If anything fails, the
    temporary file is deleted and `path` is left as it was."""
    directory, name = os.path.split(os.path.abspath(path))
    name = name[:100]                # the temporary name must fit the file system's 255 bytes too
    _remove_orphans(directory, name)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.{_writer(os.getpid())}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _writer(pid) -> str:
    host = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"
    return f"{host}-{pid}"


def _remove_orphans(directory, name):
    """Deletes the temporary files of earlier saves to `name` whose process has died. Only this
    host's: another host's process cannot be asked, and on a shared disk it may still be writing."""
    if os.name != "posix":           # os.kill(pid, 0) asks "alive?" only on POSIX (on Windows it kills)
        return
    pattern = re.compile(re.escape(f".{name}.{_writer('')}") + r"(\d+)\.\w+\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            match = pattern.fullmatch(entry)
            if match and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(directory, entry))


def _alive(pid) -> bool:
    if pid == os.getpid():
        return True                  # another thread of ours may be saving right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                  # alive, another user's
    return True


def _fsync(path):
    fd = os.open(path, os.O_RDWR)    # writable: Windows flushes only a handle opened for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory):
    """Makes the rename itself durable. POSIX only (Windows cannot open a directory), and skipped
    where the file system cannot sync a directory."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# safetensors' dtype names → NumPy dtypes. safetensors.numpy has no BF16 (NumPy itself has none), so the
# bytes are read here and bfloat16 comes from ml_dtypes, as gpuflow's bfloat16 tensors do.
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": ml_dtypes.bfloat16, "I64": "<i8",
                       "I32": "<i4", "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1",
                       "BOOL": "?"}


def read_safetensors(blob) -> dict:
    """{name: array} from the bytes of a safetensors file; raises ValueError for a corrupt one."""
    import safetensors
    try:
        entries = safetensors.deserialize(bytes(blob))
    except Exception as e:  # the reader raises its own exception type (SafetensorError) for a corrupt header
        raise ValueError(f"not a valid safetensors file ({e})") from None
    out = {}
    for name, entry in entries:
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"tensor {name!r} has dtype {entry['dtype']}, which gpuflow does not read")
        out[name] = np.frombuffer(entry["data"], dtype=dtype).reshape(entry["shape"])
    return out
