"""Fetching dataset files into the local cache, checked by SHA-256.

Files live in `$GPUFLOW_DATA_DIR` (default `~/.gpuflow/datasets`). A download goes to a temporary file
in the same folder and is renamed into place only once its checksum matches, so a broken transfer
never leaves a file that looks complete. Without a network, the error names each missing file, its
checksum, where to get it and the folder to put it in.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ...errors import NotFoundError

TIMEOUT_S = 30
_BLOCK = 1 << 20


def cache_dir() -> Path:
    return Path(os.environ.get("GPUFLOW_DATA_DIR") or Path.home() / ".gpuflow" / "datasets")


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, dest: Path, expected: str) -> None:
    fd, partial = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            for block in iter(lambda: response.read(_BLOCK), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != expected:
            raise OSError(f"{url} arrived with SHA-256 {digest.hexdigest()}, expected {expected}")
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def fetch(dataset: str, base_url: str, files: dict, subdir: str = "") -> dict:
    """`{file name: expected SHA-256}` → `{file name: local path}`, downloading what is missing or corrupt."""
    folder = cache_dir() / subdir
    folder.mkdir(parents=True, exist_ok=True)
    paths, failures = {}, []
    for name, expected in files.items():
        path = folder / name
        if path.exists() and sha256(path) == expected:
            paths[name] = path
            continue
        try:
            _download(base_url + os.path.basename(name), path, expected)
            paths[name] = path
        except (urllib.error.URLError, OSError, ValueError) as e:
            failures.append((name, expected, e))
    if failures:
        lines = "\n".join(f"  {name}  (SHA-256 {expected}) from {base_url}{os.path.basename(name)}: {e}"
                          for name, expected, e in failures)
        raise NotFoundError(f"{dataset}: could not download\n{lines}\nDownload these files by hand and put them in "
                            f"{folder} (set GPUFLOW_DATA_DIR to use another folder).")
    return paths
