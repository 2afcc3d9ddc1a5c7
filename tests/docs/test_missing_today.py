"""The "Missing today" list in docs/porting-from-tensorflow.md is what the code says, not what someone typed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("missing_today", ROOT / "tools" / "missing_today.py")
missing_today = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(missing_today)

# Names the first hand-written list forgot: they stay in tf_names.txt for as long as gpuflow lacks them.
ONCE_FORGOTTEN = {"tf.custom_gradient", "tf.linspace", "tf.norm", "tf.unique", "tf.scatter_nd", "tf.random.categorical",
                  "tf.nn.moments", "tf.linalg.inv", "tf.data.TFRecordDataset"}


def test_the_committed_list_is_the_generated_one():
    text = missing_today.PAGE.read_text()
    assert missing_today.updated(text) == text, (
        "docs/porting-from-tensorflow.md's 'Missing today' is stale: run `python tools/missing_today.py` and commit it")


def test_the_tf_name_list_is_broad_and_clean():
    names = missing_today.tf_names()
    assert len(names) >= 300
    assert len(set(names)) == len(names), sorted({n for n in names if names.count(n) > 1})
    assert all(n.startswith("tf.") and " " not in n for n in names)
    assert ONCE_FORGOTTEN <= set(names)


def test_lookup_follows_the_tf_path():
    present = ["tf.reduce_sum", "tf.math.reduce_std", "tf.keras.layers.Dense", "tf.data.Dataset.map",
               "tf.keras.optimizers.schedules.ExponentialDecay", "tf.GradientTape.gradient"]
    assert [n for n in present if not missing_today.exists(n)] == []
    assert missing_today.missing(["tf.no_such_op", "tf.keras.layers.NoSuchLayer", "tf.no_such_module.op"]) == [
        "tf.no_such_op", "tf.keras.layers.NoSuchLayer", "tf.no_such_module.op"]


def test_absent_names_are_listed_and_present_ones_are_not():
    section = missing_today.render(missing_today.missing())
    absent = [n for n in sorted(ONCE_FORGOTTEN) if not missing_today.exists(n)]
    for name in absent:
        assert f"`{name.rpartition('.')[2]}`" in section
    assert "`reduce_sum`" not in section
