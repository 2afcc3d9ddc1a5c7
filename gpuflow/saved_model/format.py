"""The SavedModel directory's layout and version, and the errors that loading raises.

    export_dir/
      saved_model.json                  format, versions, variables, traced graphs, signatures, assets (+ Keras config)
      variables/variables.safetensors   every variable's value, and the graphs' captured constants
      assets/                           files the model ships with (names listed in saved_model.json)

Everything is data: JSON and safetensors, never pickle or Python code, so loading runs nothing from the files.
"""
from __future__ import annotations

import os

from ..errors import DataLossError

FORMAT = "gpuflow.saved_model"
FORMAT_VERSION = 1           # bumped when a reader of an older version could misread a newer file
MANIFEST = "saved_model.json"
VARIABLES_DIR, VARIABLES_FILE = "variables", "variables.safetensors"
ASSETS_DIR = "assets"
MANIFEST_CAP = 256 << 20     # bytes of saved_model.json read at most (graphs of the largest models are a few MB)
HEADER_CAP = 100 << 20       # bytes of safetensors header read at most (the library's own limit)
DEFAULT_SIGNATURE = "serving_default"
DEVICE_KINDS = ("cpu", "sim", "cuda")


def manifest_path(export_dir) -> str:
    return os.path.join(os.fspath(export_dir), MANIFEST)


def variables_path(export_dir) -> str:
    return os.path.join(os.fspath(export_dir), VARIABLES_DIR, VARIABLES_FILE)


class Where:
    """Names the place in saved_model.json that a check looks at, so each error says where the file is wrong."""
    __slots__ = ("export_dir", "path")

    def __init__(self, export_dir, path="saved_model.json"):
        self.export_dir, self.path = export_dir, path

    def __truediv__(self, part) -> "Where":
        return Where(self.export_dir, f"{self.path}[{part!r}]" if isinstance(part, str) else f"{self.path}[{part}]")

    def error(self, message, cls=DataLossError):
        return cls(f"gf.saved_model.load({self.export_dir!r}): {self.path}: {message}")
