"""A checkpoint directory's `checkpoint` file: which checkpoints it keeps, and the latest, in TF's text format

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"

Paths inside the directory are written relative to it, as TF writes them. The file is only ever replaced whole.
"""
from __future__ import annotations

import json
import os
import re

from ..file_io import atomic_file

NAME = "checkpoint"
_LINE = re.compile(r'^\s*(model_checkpoint_path|all_model_checkpoint_paths)\s*:\s*(".*")\s*$')


def read(directory, name=NAME) -> tuple:
    """(the latest checkpoint's path or None, [every kept checkpoint's path]) recorded in `directory`, as full
    paths; (None, []) when there is no such file."""
    try:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None, []
    latest, kept = None, []
    for line in lines:
        m = _LINE.match(line)
        if m is None:
            continue
        try:
            path = json.loads(m.group(2))
        except ValueError:
            continue
        path = path if os.path.isabs(path) else os.path.join(directory, path)
        if m.group(1) == "model_checkpoint_path":
            latest = path
        else:
            kept.append(path)
    return latest, kept


def write(directory, latest, kept, name=NAME) -> None:
    def shown(path):
        relative = os.path.relpath(path, directory)
        return json.dumps(path if relative.startswith(os.pardir) else relative)
    text = f"model_checkpoint_path: {shown(latest)}\n" + "".join(
        f"all_model_checkpoint_paths: {shown(p)}\n" for p in kept)
    with atomic_file(os.path.join(directory, name)) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def record(directory, path) -> None:
    """Record `path` as the latest checkpoint of `directory`, after the ones already kept there (Checkpoint.save)."""
    _, kept = read(directory)
    kept = [p for p in kept if os.path.abspath(p) != os.path.abspath(path)] + [path]
    write(directory, path, kept)
