"""TF Serving's config files (text format) and flags, read without starting a server."""
import subprocess
import sys

import pytest

from child_process import env_with_gpuflow
from gpuflow.serving import cli
from gpuflow.serving.config import (BatchingParameters, ConfigError, VersionPolicy, read_batching_parameters,
                                    read_model_config, read_monitoring_config)
from gpuflow.serving.text_format import TextFormatError, parse

pytestmark = pytest.mark.serving


def _file(tmp_path, text, name="x.config"):
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def test_text_format():
    assert parse("""
        # a comment
        a: 1 b: -2.5e1 c: 'x' "y"  d: true e: ENUM_VALUE, f: [1, 0x10]; g { h: 1 } g < h: 2 >
    """) == {"a": [1], "b": [-25.0], "c": ["xy"], "d": [True], "e": ["ENUM_VALUE"], "f": [1, 16],
             "g": [{"h": [1]}, {"h": [2]}]}
    with pytest.raises(TextFormatError, match=r"f.config:2: expected '\}'"):
        parse("a {\n  b: 1", "f.config")
    with pytest.raises(TextFormatError, match="f.config:1: expected ':' or '{'"):
        parse("a 1", "f.config")


def test_model_config(tmp_path):
    models = read_model_config(_file(tmp_path, """
model_config_list {
  config { name: 'a' base_path: '/m/a' }
  config {
    name: "b" base_path: "/m/b" model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 3 } }
    version_labels { key: 'stable' value: 1 }
  }
}"""))
    assert [m.name for m in models] == ["a", "b"]
    assert models[0].policy == VersionPolicy("latest", 1) and models[1].labels == {"stable": 1}
    assert models[1].policy.select({1: "", 2: "", 3: "", 4: ""}) == {1, 3}
    assert VersionPolicy("latest", 2).select([5, 1, 9]) == {5, 9} and VersionPolicy("all").select([1, 2]) == {1, 2}


@pytest.mark.parametrize("text, message", [
    ("model_config_list { config { name: 'a' } }", "base_path is required"),
    ("model_config_list { config { name: 'a' base_path: '/a' path: 'x' } }", r"unknown field\(s\) \['path'\]"),
    ("model_config_list { config { name: 'a' base_path: '/a' model_platform: 'onnx' } }", "not served"),
    ("model_config_list { config { name: 'a' base_path: '/a' model_version_policy { all {} latest {} } } }",
     "exactly one of"),
    ("model_config_list { config { name: 'a' base_path: '/a' } config { name: 'a' base_path: '/b' } }",
     "more than once"),
    ("model_config_list { config { name: 1 base_path: '/a' } }", "name: expected str"),
    ("model_config_list {", "expected '}'"),
])
def test_model_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        read_model_config(_file(tmp_path, text))


def test_batching_parameters(tmp_path):
    params = read_batching_parameters(_file(tmp_path, """
        max_batch_size { value: 16 } batch_timeout_micros: 1000 num_batch_threads { value: 2 }
        allowed_batch_sizes: 4 allowed_batch_sizes: 16 thread_pool_name: "pool" """))
    assert params == BatchingParameters(16, 1000, 10, 2, (4, 16))
    with pytest.raises(ConfigError, match="must equal max_batch_size"):
        read_batching_parameters(_file(tmp_path, "max_batch_size { value: 16 } allowed_batch_sizes: 8"))
    with pytest.raises(ConfigError, match="pad_variable_length_inputs"):
        read_batching_parameters(_file(tmp_path, "pad_variable_length_inputs: true"))
    with pytest.raises(ConfigError, match="must be >= 0"):
        read_batching_parameters(_file(tmp_path, "max_batch_size { value: -1 }"))


def test_monitoring_config(tmp_path):
    config = read_monitoring_config(_file(tmp_path, "prometheus_config { enable: true, path: '/metrics' }"))
    assert config.enable and config.path == "/metrics"
    assert not read_monitoring_config(_file(tmp_path, "")).enable


@pytest.mark.parametrize("argv, message", [
    ([], "either --model_config_file"),
    (["--model_base_path=/a", "--batching_parameters_file=/b"], "needs --enable_batching"),
    (["--model_config_file=/nowhere.config"], "cannot read it"),
])
def test_flag_errors_exit_2(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_help_lists_tf_serving_flags():
    done = subprocess.run([sys.executable, "-m", "gpuflow.serving", "--help"], capture_output=True, text=True,
                          env=env_with_gpuflow(), timeout=60)
    assert done.returncode == 0
    for flag in ("--model_name", "--model_base_path", "--rest_api_port", "--model_config_file",
                 "--file_system_poll_wait_seconds", "--enable_batching", "--batching_parameters_file",
                 "--monitoring_config_file"):
        assert flag in done.stdout
