"""The generated API reference (tools/api_reference.py, run by mkdocs as a hook) covers every public name,
and every public function and class has a docstring for it to show.

CI builds the site itself with `mkdocs build --strict` (.ci/run); these checks need no mkdocs.
"""
from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("api_reference", ROOT / "tools" / "api_reference.py")
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)

REQUIRED = {"", "math", "nn", "linalg", "random", "data", "keras.layers", "keras.optimizers", "keras.optimizers.schedules",
            "keras.losses", "keras.metrics", "keras.callbacks", "keras.initializers", "keras.regularizers",
            "keras.constraints", "cuda", "memory", "config"}


def test_every_required_namespace_has_a_page():
    assert REQUIRED <= set(api.namespaces())


def test_namespaces_landing_later_are_found_by_their_tf_name():
    # gf.summary, gf.saved_model, ...: their TF paths are in tf_names.txt, so a module there gets a page.
    tf_spaces = api._tf_namespaces()
    assert {"summary", "saved_model", "distribute", "debugging", "lite", "profiler"} <= tf_spaces
    assert {"function", "onnx"} & (tf_spaces | set(api.OWN)) == {"onnx"}  # gf.function is a name on the gf page


@pytest.mark.parametrize("path", api.namespaces(), ids=lambda p: api.title(p))
def test_every_public_name_has_a_docstring(path):
    mod = api.module(path)
    names = api.public_names(path)
    assert names or api.children(path), f"{api.title(path)} has no public names and no namespaces inside"
    unknown = [n for n in names if not hasattr(mod, n)]
    assert not unknown, f"{api.title(path)}.__all__ names what it lacks: {unknown}"
    bare = [n for n in names if api.documented(getattr(mod, n)) and not api.own_docstring(getattr(mod, n)).strip()]
    assert not bare, f"public names of {api.title(path)} without a docstring (the reference shows it): {bare}"


@pytest.mark.parametrize("path", api.namespaces(), ids=lambda p: api.title(p))
def test_every_namespace_says_what_it_is(path):
    assert (inspect.getdoc(api.module(path)) or "").strip(), f"{api.title(path)} has no module docstring"


@pytest.mark.parametrize("path", api.namespaces(), ids=lambda p: api.title(p))
def test_a_page_has_an_entry_per_public_name(path):
    text = api.page(path)
    missing = [n for n in api.public_names(path) if f"## `{n}`\n" not in text]
    assert not missing, f"the {api.title(path)} page has no entry for {missing}"


def test_entries_say_their_devices_and_aliases():
    text = api.page("math")
    assert "**Devices:** cpu, sim, cuda" in text and "::: gpuflow.math.reduce_sum" in text
    assert "Alias of [`mod`](#mod)" in text  # floormod is mod
    assert "**Devices:** sim, cuda" in api.page("cuda")  # RawKernel says so in its docstring


def test_differs_from_tf_is_a_docstring_section():
    # Google-style sections render as admonitions: the convention every docstring follows.
    import gpuflow as gf
    assert "\nDiffers from TF:\n    " in api.own_docstring(gf.add)
