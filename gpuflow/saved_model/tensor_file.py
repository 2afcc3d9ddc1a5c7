"""variables/variables.safetensors: written by the safetensors library, read here in two steps.

The header (an 8-byte length, then JSON naming each tensor's dtype, shape and byte range) is read and
checked first: every range inside the file, exactly as long as its dtype and shape need, the ranges tiling
the data without gaps or overlaps, and each tensor the SavedModel uses present with the dtype and shape that
saved_model.json records. Only then are the bytes read, straight into one array per tensor.
"""
from __future__ import annotations

import json
import math
import os
import struct

import numpy as np

from .. import dtypes
from ..tensor import TensorSpec
from .format import HEADER_CAP, Where

# safetensors' dtype names for gpuflow's dtypes (the only ones a SavedModel holds)
_NAMES = {"F16": dtypes.float16, "BF16": dtypes.bfloat16, "F32": dtypes.float32, "F64": dtypes.float64,
          "I8": dtypes.int8, "I16": dtypes.int16, "I32": dtypes.int32, "I64": dtypes.int64, "U8": dtypes.uint8,
          "U32": dtypes.uint32, "BOOL": dtypes.bool}
EXTRA_PREFIXES = ("optimizer/",)   # tensors no graph reads: a Keras model's optimizer state


def write(path, arrays: dict) -> None:
    from safetensors.numpy import save_file
    # order="C", not ascontiguousarray, which makes a scalar 1-d
    save_file({k: np.asarray(v, order="C") for k, v in arrays.items()}, path, metadata={"format": "gpuflow"})


class Entry:
    __slots__ = ("spec", "begin", "end")

    def __init__(self, spec, begin, end):
        self.spec, self.begin, self.end = spec, begin, end


def read_header(path, export_dir) -> tuple[dict, int]:
    """({key: Entry}, offset of the data) of the file, after checking its structure."""
    where = Where(export_dir, os.path.relpath(path, export_dir) if export_dir else path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise where.error(f"is {size} bytes long, too short for a safetensors header")
            (n,) = struct.unpack("<Q", head)
            if n > min(HEADER_CAP, size - 8):
                raise where.error(f"declares a {n:,}-byte header in a {size:,}-byte file (at most "
                                  f"{HEADER_CAP >> 20} MiB are read)")
            raw = f.read(n)
    except FileNotFoundError:
        from ..errors import NotFoundError
        raise where.error("is missing", cls=NotFoundError) from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise where.error(f"its header is not valid JSON ({e})") from None
    if type(header) is not dict:
        raise where.error("its header must be a JSON object")
    entries = {}
    for key, value in header.items():
        if key == "__metadata__":
            continue
        at = where / key
        if type(value) is not dict or set(value) != {"dtype", "shape", "data_offsets"}:
            raise at.error("expected {dtype, shape, data_offsets}")
        dtype = _NAMES.get(value["dtype"])
        if dtype is None:
            raise at.error(f"dtype {value['dtype']!r:.20} is not one gpuflow holds ({', '.join(_NAMES)})")
        shape, offsets = value["shape"], value["data_offsets"]
        if type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape):
            raise at.error(f"shape {shape!r:.60} is not a list of sizes >= 0")
        if type(offsets) is not list or len(offsets) != 2 or not all(type(o) is int for o in offsets) \
                or not 0 <= offsets[0] <= offsets[1]:
            raise at.error(f"data_offsets {offsets!r:.60} is not a [begin, end] byte range")
        need = math.prod(shape) * dtype.itemsize
        if offsets[1] - offsets[0] != need:
            raise at.error(f"holds {offsets[1] - offsets[0]:,} bytes, but {dtype.name}{shape} needs {need:,}")
        entries[key] = Entry(TensorSpec(shape, dtype), offsets[0], offsets[1])
    data_size, position = size - 8 - n, 0
    for key, entry in sorted(entries.items(), key=lambda kv: (kv[1].begin, kv[1].end)):
        if entry.begin != position:
            raise (where / key).error(f"starts at byte {entry.begin:,} of the data, where byte {position:,} was "
                                      f"expected: the tensors must tile the data without gaps or overlaps")
        position = entry.end
    if position != data_size:
        raise where.error(f"its tensors cover {position:,} bytes of data, the file holds {data_size:,}")
    return entries, 8 + n


def check(entries, wanted: dict, export_dir, path):
    """Every tensor in `wanted` (key → TensorSpec) is in the file with that spec; the file holds nothing else
    but EXTRA_PREFIXES tensors."""
    where = Where(export_dir, os.path.relpath(path, export_dir))
    for key, spec in wanted.items():
        entry = entries.get(key)
        if entry is None:
            raise where.error(f"lacks the tensor {key!r}, which saved_model.json uses")
        if entry.spec != spec:
            raise (where / key).error(f"is {entry.spec.dtype.name}{list(entry.spec.shape)}, but saved_model.json "
                                      f"records {spec.dtype.name}{list(spec.shape)}")
    extra = sorted(k for k in set(entries) - set(wanted) if not k.startswith(EXTRA_PREFIXES))
    if extra:
        raise where.error(f"holds tensors saved_model.json does not name: {extra[:5]}")


def read(path, entries, data_offset, keys) -> dict:
    """{key: NumPy array} for `keys`, each read into its own array (after read_header and check)."""
    out = {}
    with open(path, "rb") as f:
        for key in keys:
            entry = entries[key]
            array = np.empty(tuple(entry.spec.shape), entry.spec.dtype.np)
            f.seek(data_offset + entry.begin)
            view = memoryview(array.reshape(-1).view(np.uint8)) if array.size else memoryview(b"")
            if f.readinto(view) != entry.end - entry.begin:
                raise Where(None, path).error(f"{key!r}: the file ended early (was it changed while loading?)")
            out[key] = array
    return out
