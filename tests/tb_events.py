"""Reading event files back with tensorboard's own reader (shared by the summary and callback tests)."""
from __future__ import annotations

import pytest

pytest.importorskip("tensorboard", reason='tensorboard is not installed (pip install "gpuflow[interop]")')

from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def load(run_dir) -> ea.EventAccumulator:
    """Every event of the run folder, none sampled away (the reservoirs keep everything at size 0)."""
    acc = ea.EventAccumulator(str(run_dir), size_guidance={ea.TENSORS: 0, ea.GRAPH: 0})
    acc.Reload()
    return acc


def series(acc, tag) -> list:
    """[(step, value as an ndarray)] for a tag, in the order written."""
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def plugin(acc, tag) -> str:
    return acc.SummaryMetadata(tag).plugin_data.plugin_name


def tags(acc) -> set:
    return set(acc.Tags()["tensors"])
