"""Assets: files a SavedModel ships with (a vocabulary, a label map), copied into assets/ by name.

Loading checks each listed name is a plain file name (no folder, no '..', nothing absolute) of a regular file
inside assets/ that is not a link out of it, so a crafted saved_model.json cannot point the loader elsewhere.
"""
from __future__ import annotations

import os
import shutil

from ..errors import InvalidArgumentError, NotFoundError


class Asset:
    """tf.saved_model.Asset: a file to ship with the model. Set it as an attribute of the saved object; the
    loaded object's `assets` maps its file name to the copy's path."""

    def __init__(self, path):
        self.asset_path = os.fspath(path)
        if not os.path.isfile(self.asset_path):
            raise NotFoundError(f"gf.saved_model.Asset: no file {self.asset_path}")

    def __repr__(self):
        return f"<Asset {self.asset_path}>"


def copy_assets(assets, folder) -> list[str]:
    names = {}
    for asset in assets:
        name = os.path.basename(asset.asset_path)
        if names.get(name, asset.asset_path) != asset.asset_path:
            raise ValueError(f"gf.saved_model.save: two assets are named {name} ({names[name]} and "
                             f"{asset.asset_path}); rename one")
        names[name] = asset.asset_path
    for name, path in names.items():
        shutil.copyfile(path, os.path.join(folder, name))
    return sorted(names)


def check_assets(names, folder, where) -> dict:
    """{name: path} of the listed assets, each checked (see the module docstring)."""
    if type(names) is not list:
        raise where.error("assets must be a list of file names")
    out = {}
    real_folder = os.path.realpath(folder)
    for i, name in enumerate(names):
        at = where / i
        if type(name) is not str or not name or name in (".", "..") or os.path.basename(name) != name \
                or "/" in name or "\\" in name or os.path.isabs(name) or "\0" in name:
            raise at.error(f"asset name {name!r:.80} is not a plain file name inside assets/", InvalidArgumentError)
        path = os.path.join(folder, name)
        if os.path.dirname(os.path.realpath(path)) != real_folder or not os.path.isfile(path):
            raise at.error(f"asset {name!r} is not a regular file inside assets/", InvalidArgumentError)
        out[name] = path
    return out
