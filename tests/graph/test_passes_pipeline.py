"""The pass pipeline: its order, gf.config.optimizer's options (what they turn off, their errors) and the
GPUFLOW_DUMP_GRAPH files written before and after each pass."""
import os

import numpy as np
import pytest

import gpuflow as gf
from gpuflow.config_optimizer import NAMES
from gpuflow.graph.passes import PIPELINE, optimize
from gpuflow.graph.passes.dump import ENV
from gpuflow.runtime import counters
from pass_graphs import optimizer_options, prims, traced

SPEC = gf.TensorSpec([4], gf.float32)
X = [1.0, 2.0, 3.0, 4.0]
OURS = ("dead_code_elimination", "common_subexpression_elimination", "constant_folding")


@pytest.fixture(autouse=True)
def only_dce_cse_fold():
    """The other options (fusion, ...) off: these tests check what these three passes leave."""
    with optimizer_options(**{name: False for name in NAMES if name not in OURS}):
        yield


def step(x):
    gf.exp(x)                                              # dead
    seed = gf.reshape(gf.constant(1.0) / gf.constant(4.0), [1])  # folds
    return gf.sin(x) * seed + gf.sin(x)                    # one sin merges away


def test_the_pipeline_runs_dce_cse_fold_then_dce_again():
    names = [name for name, _ in PIPELINE]
    assert [name for name in names if name in OURS] == ["dead_code_elimination", "common_subexpression_elimination",
                                                        "constant_folding", "dead_code_elimination"]
    if "fusion" in names:  # between folding (constants known) and the last DCE
        assert names.index("constant_folding") < names.index("fusion") < len(names) - 1
    out = optimize(traced(step, SPEC))
    assert prims(out) == ["sin", "multiply", "add"]
    assert len(out.constants) == 1  # the folded seed; the 1.0 and 4.0 it came from are gone


@pytest.mark.parametrize("off", ["dead_code_elimination", "common_subexpression_elimination", "constant_folding"])
def test_each_option_turns_its_pass_off(off):
    graph = traced(step, SPEC)
    with optimizer_options(**{off: False}):
        out = optimize(graph)
    expected = {"dead_code_elimination": ["exp", "sin", "multiply", "add"],
                "common_subexpression_elimination": ["sin", "multiply", "sin", "add"],
                "constant_folding": ["divide", "reshape", "sin", "multiply", "add"]}[off]
    assert prims(out) == expected


def test_disable_meta_optimizer_turns_every_pass_off_and_optimize_returns_the_graph_itself():
    graph = traced(step, SPEC)
    with optimizer_options(disable_meta_optimizer=True):
        assert not any(gf.config.optimizer.get_experimental_options().values())
        assert optimize(graph) is graph


def test_options_apply_to_functions_planned_after_they_change(device):
    x = gf.constant(X)
    counts = {}
    for on in (True, False):
        with optimizer_options(dead_code_elimination=on, common_subexpression_elimination=on, constant_folding=on):
            f = gf.function(step)
            expected = f(x).numpy()  # traces, plans and compiles
            with counters.measure() as m:
                got = f(x).numpy()
            counts[on] = m.delta["launches"]
            np.testing.assert_array_equal(got, expected)
    assert counts[True] < counts[False]


@pytest.mark.parametrize("options, error, match", [
    ({"constant_foldng": False}, ValueError, "unknown option 'constant_foldng'.*constant_folding"),
    ([("constant_folding", False)], TypeError, "expected a dict"),
])
def test_bad_options_are_errors_that_name_the_known_ones(options, error, match):
    before = gf.config.optimizer.get_experimental_options()
    with pytest.raises(error, match=match):
        gf.config.optimizer.set_experimental_options(options)
    assert gf.config.optimizer.get_experimental_options() == before
    assert set(before) == set(NAMES)


def test_dump_graph_writes_the_ir_before_and_after_each_pass(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path / "dumps"))
    f = gf.function(step)
    f(gf.constant(X))
    files = sorted(os.listdir(tmp_path / "dumps"))
    labels = ["traced"] + [name for name, _ in PIPELINE if name in OURS]
    prefix = files[0].rsplit(".", 2)[0]  # step.<n>
    assert prefix.startswith("step.")
    assert files == [f"{prefix}.{k:02d}-{name}.txt" for k, name in enumerate(labels)]
    text = [(tmp_path / "dumps" / name).read_text() for name in files]
    assert text[0] == str(f.concrete_functions[0].graph) + "\n"
    assert "exp(" in text[0] and "exp(" not in text[1]
    assert text[1].count("sin(") == 2 and text[2].count("sin(") == 1
    assert "divide(" in text[2] and "divide(" not in text[3]
    assert text[3].count("= constant") > text[4].count("= constant")
    f(gf.constant(X))  # a planned function writes nothing more
    assert len(os.listdir(tmp_path / "dumps")) == len(labels)


def test_dump_files_of_one_name_do_not_collide_and_follow_the_options(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path))
    graph = traced(step, SPEC)
    with optimizer_options(dead_code_elimination=False, common_subexpression_elimination=False):
        optimize(graph)
        optimize(graph)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 4 and len({name.rsplit(".", 2)[0] for name in files}) == 2
    assert sorted(name.split(".", 2)[2] for name in files) == ["00-traced.txt", "00-traced.txt",
                                                               "01-constant_folding.txt", "01-constant_folding.txt"]


def test_dump_shows_the_sub_graphs_of_control_flow(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path))

    def f(x):
        return gf.cond(gf.reduce_sum(x) > 0.0, lambda: gf.exp(x) * (gf.constant(2.0) + 1.0), lambda: x)
    optimize(traced(f, SPEC))
    files = sorted(os.listdir(tmp_path))
    first, last = (tmp_path / files[0]).read_text(), (tmp_path / files[-1]).read_text()
    assert "# cond_true: a sub-graph of cond" in first and "graph cond_false(" in first
    assert "add(" in first and "add(" not in last  # folded inside the branch


def test_no_dump_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    optimize(traced(step, SPEC))
    assert os.listdir(tmp_path) == []
