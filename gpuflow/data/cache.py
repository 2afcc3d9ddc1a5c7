"""cache: the first complete pass is kept (in memory, or in files) and later passes replay it.

The file form is a folder `<filename>.gfcache/`: `index.json` (the element structure, dtypes, chunk
count) and `chunk-NNNNNN.npz` files of plain arrays. It is written under a temporary name and renamed
when a pass completes, so an interrupted pass leaves nothing behind, and it is read with
`allow_pickle=False`: a cache file holds data only, never code.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile

import numpy as np

from .. import dtypes, nest
from ..errors import InvalidArgumentError
from .node import Node

CHUNK_ELEMENTS = 1024
_FORMAT = "gpuflow.data.cache/1"


def _encode(element):
    """The structure as JSON; namedtuples come back as tuples. Dict keys must be str or int."""
    if isinstance(element, dict):
        for k in element:
            if not isinstance(k, (str, int)):
                raise InvalidArgumentError(f"cache(filename): dict keys must be str or int to be written, got {k!r}")
        return {"dict": [[k, _encode(element[k])] for k in sorted(element)]}
    if isinstance(element, tuple):
        return {"tuple": [_encode(e) for e in element]}
    return {"leaf": dtypes.as_dtype(element.dtype).name}


def _decode(tree):
    if "dict" in tree:
        return {k: _decode(v) for k, v in tree["dict"]}
    if "tuple" in tree:
        return tuple(_decode(v) for v in tree["tuple"])
    return dtypes.as_dtype(tree["leaf"])


def _storable(a):
    # .npy has no bfloat16; its bits travel as uint16 and are viewed back on reading.
    return a.view(np.uint16) if a.dtype == dtypes.bfloat16.np else a


class Cache(Node):
    def __init__(self, input_dataset, filename):
        self._input = input_dataset
        self._folder = os.fspath(filename) + ".gfcache" if os.fspath(filename) else None
        self._memory = None

    def _elements(self, probe=False):
        if self._folder is None:
            yield from self._from_memory(probe)
        elif os.path.isdir(self._folder):
            yield from _read(self._folder)
        else:
            yield from self._write_through(probe)

    def _from_memory(self, probe):
        if self._memory is not None:
            yield from self._memory
            return
        seen = []
        for element in self._input._elements(probe):
            seen.append(element)
            yield element
        self._memory = seen  # reached only when the pass completed

    def _write_through(self, probe):
        parent = os.path.dirname(os.path.abspath(self._folder))
        os.makedirs(parent, exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=os.path.basename(self._folder) + ".", suffix=".tmp", dir=parent)
        chunk, chunks, tree = [], 0, None
        try:
            for element in self._input._elements(probe):
                tree = tree or _encode(element)
                chunk.append(element)
                if len(chunk) == CHUNK_ELEMENTS:
                    _write_chunk(scratch, chunks, chunk)
                    chunk, chunks = [], chunks + 1
                yield element
            if chunk:
                _write_chunk(scratch, chunks, chunk)
                chunks += 1
            with open(os.path.join(scratch, "index.json"), "w") as f:
                json.dump({"format": _FORMAT, "structure": tree, "chunks": chunks}, f)
            try:
                os.rename(scratch, self._folder)
            except OSError:  # another pass finished first; its files are as good as ours
                pass
        finally:
            if os.path.isdir(scratch):
                shutil.rmtree(scratch, ignore_errors=True)

    def _compute_spec(self):
        return self._input.element_spec

    def _cardinality(self):
        return self._input._cardinality()


def _write_chunk(folder, number, elements):
    arrays = {f"e{j}_{k}": _storable(a) for j, e in enumerate(elements) for k, a in enumerate(nest.flatten(e))}
    with open(os.path.join(folder, f"chunk-{number:06d}.npz"), "wb") as f:
        np.savez(f, **arrays)


def _read(folder):
    try:
        with open(os.path.join(folder, "index.json")) as f:
            index = json.load(f)
        if index.get("format") != _FORMAT:
            raise ValueError(f"format {index.get('format')!r}, expected {_FORMAT!r}")
        template = _decode(index["structure"]) if index["structure"] is not None else None
        chunks = int(index["chunks"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidArgumentError(f"cache: {folder} is not a readable gpuflow cache ({e}); delete it to rebuild "
                                   f"it") from None
    kinds = nest.flatten(template) if template is not None else []
    for number in range(chunks):
        path = os.path.join(folder, f"chunk-{number:06d}.npz")
        try:
            with np.load(path, allow_pickle=False) as data:
                elements = [nest.pack_sequence_as(template, [data[f"e{j}_{k}"].view(kind.np)
                                                             for k, kind in enumerate(kinds)])
                            for j in range(len(data.files) // max(len(kinds), 1))]
        except (OSError, ValueError, KeyError) as e:  # missing, truncated, or holding pickled objects
            raise InvalidArgumentError(f"cache: {path} is damaged ({e}); delete {folder} to rebuild it") from None
        yield from elements
