"""gf.saved_model.load refuses a damaged or crafted SavedModel with a gf.errors exception naming the field,
before it reads any tensor (the reading step is watched), and never runs anything from the files."""
import json
import os
import struct

import pytest

import gpuflow as gf
from gpuflow.errors import DataLossError, InvalidArgumentError, NotFoundError, UnimplementedError
from gpuflow.saved_model import tensor_file


@pytest.fixture
def saved(tmp_path):
    with gf.device("cpu"):
        model = gf.keras.Sequential([gf.keras.Input((3,)), gf.keras.layers.Dense(2, activation="relu")])
        gf.saved_model.save(model, tmp_path / "m")
    return tmp_path / "m"


@pytest.fixture(autouse=True)
def tensor_reads(monkeypatch):
    """Counts how often a load got as far as reading tensors."""
    calls = []
    real = tensor_file.read

    def read(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)
    monkeypatch.setattr(tensor_file, "read", read)
    return calls


def _edit(path, change):
    manifest = json.loads((path / "saved_model.json").read_text())
    change(manifest)
    (path / "saved_model.json").write_text(json.dumps(manifest))


def _nodes(manifest):
    return manifest["functions"][0]["nodes"]


def _refused(path, error, match, tensor_reads):
    with pytest.raises(error, match=match):
        gf.saved_model.load(path)
    assert not tensor_reads, "the load read tensors before refusing the file"


def test_an_intact_model_loads(saved, tensor_reads):
    gf.saved_model.load(saved)
    assert len(tensor_reads) == 1


def test_missing_directory_or_manifest(tmp_path, tensor_reads):
    _refused(tmp_path / "nowhere", NotFoundError, "not a directory", tensor_reads)
    (tmp_path / "empty").mkdir()
    _refused(tmp_path / "empty", NotFoundError, "no saved_model.json", tensor_reads)


def test_not_json(saved, tensor_reads):
    (saved / "saved_model.json").write_text("{\"format\": ")
    _refused(saved, DataLossError, "not valid JSON", tensor_reads)


def test_version_too_new(saved, tensor_reads):
    _edit(saved, lambda m: m.update(format_version=99))
    _refused(saved, UnimplementedError, "format version 99; this gpuflow reads versions up to 1: upgrade",
             tensor_reads)


def test_unknown_op(saved, tensor_reads):
    _edit(saved, lambda m: _nodes(m)[0].update(op="os_system"))
    _refused(saved, NotFoundError, r"\['nodes'\]\[0\]: unknown op 'os_system'", tensor_reads)


def test_recorded_shape_disagrees_with_the_op(saved, tensor_reads):
    def change(m):
        matmul = next(n for n in _nodes(m) if n["op"] == "matmul")
        m["functions"][0]["symbols"][matmul["outputs"][0]][1] = [None, 5]
    _edit(saved, change)
    _refused(saved, DataLossError, r"matmul gives float32\[None, 2\] where the file records float32\[None, 5\]",
             tensor_reads)


def test_value_used_before_it_is_made(saved, tensor_reads):
    _edit(saved, lambda m: _nodes(m).reverse())
    _refused(saved, DataLossError, "before it is made", tensor_reads)


def test_unknown_param_tag(saved, tensor_reads):
    _edit(saved, lambda m: next(n for n in _nodes(m) if n["op"] == "matmul")["params"].update(
        transpose_a={"pickle": "gASV"}))
    _refused(saved, DataLossError, "unknown type tag 'pickle'", tensor_reads)


def test_signature_disagrees_with_its_function(saved, tensor_reads):
    _edit(saved, lambda m: m["signatures"]["serving_default"]["inputs"][0].update(dtype="int32"))
    _refused(saved, DataLossError, "recorded as int32", tensor_reads)


def test_variable_number_out_of_range(saved, tensor_reads):
    _edit(saved, lambda m: next(n for n in _nodes(m) if n["op"] == "read_variable")["params"].update(var=7))
    _refused(saved, DataLossError, "variable 7 is not one of", tensor_reads)


def test_variable_node_disagrees_with_the_variable(saved, tensor_reads):
    _edit(saved, lambda m: m["variables"][0].update(shape=[2, 3]))
    _refused(saved, DataLossError, r"read_variable gives float32\[2, 3\] where the file records float32\[3, 2\]",
             tensor_reads)


def test_tensor_file_disagrees_with_the_manifest(saved, tensor_reads):
    def change(header, data):
        header["variables/dense/kernel"]["shape"] = [2, 3]  # as many bytes as [3, 2]
        return data
    _rewrite_header(saved, change)
    _refused(saved, DataLossError, r"is float32\[2, 3\], but saved_model.json records float32\[3, 2\]",
             tensor_reads)


def _rewrite_header(path, change):
    blob = (path / "variables" / "variables.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = change(header, blob[8 + n:])
    raw = json.dumps(header).encode()
    (path / "variables" / "variables.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def test_overlapping_tensor_offsets(saved, tensor_reads):
    def change(header, data):
        first = next(k for k in header if k != "__metadata__")
        header[first]["data_offsets"] = [x + 4 for x in header[first]["data_offsets"]]
        return data
    _rewrite_header(saved, change)
    _refused(saved, DataLossError, "without gaps or overlaps|cover", tensor_reads)


def test_truncated_tensor_file(saved, tensor_reads):
    _rewrite_header(saved, lambda header, data: data[:-4])
    _refused(saved, DataLossError, "cover .* bytes of data, the file holds", tensor_reads)


def test_header_longer_than_the_file(saved, tensor_reads):
    path = saved / "variables" / "variables.safetensors"
    path.write_bytes(struct.pack("<Q", 1 << 40) + path.read_bytes()[8:])
    _refused(saved, DataLossError, "header in a", tensor_reads)


def test_size_that_disagrees_with_the_shape(saved, tensor_reads):
    def change(header, data):
        first = next(k for k in header if k != "__metadata__")
        header[first]["shape"] = [1000]
        return data
    _rewrite_header(saved, change)
    _refused(saved, DataLossError, "needs 4,000", tensor_reads)


@pytest.mark.parametrize("name", ["../saved_model.json", "/etc/passwd", "sub/../../x", "..", ""])
def test_asset_names_that_leave_the_assets_folder(saved, name, tensor_reads):
    _edit(saved, lambda m: m.update(assets=[name]))
    _refused(saved, InvalidArgumentError, "not a plain file name", tensor_reads)


def test_asset_that_is_a_link_out_of_the_folder(saved, tmp_path, tensor_reads):
    (tmp_path / "secret.txt").write_text("x")
    os.symlink(tmp_path / "secret.txt", saved / "assets" / "vocab.txt")
    _edit(saved, lambda m: m.update(assets=["vocab.txt"]))
    _refused(saved, InvalidArgumentError, "not a regular file inside assets", tensor_reads)


def test_unknown_top_level_key(saved, tensor_reads):
    _edit(saved, lambda m: m.update(code="print(1)"))
    _refused(saved, DataLossError, r"unknown keys \['code'\]", tensor_reads)


def test_non_finite_json_numbers(saved, tensor_reads):
    text = (saved / "saved_model.json").read_text().replace('"transpose_a":false', '"transpose_a":NaN', 1)
    (saved / "saved_model.json").write_text(text)
    _refused(saved, DataLossError, "NaN is not JSON", tensor_reads)


def test_json_nested_too_deeply(saved, tensor_reads):
    (saved / "saved_model.json").write_text("[" * 100000 + "]" * 100000)
    _refused(saved, DataLossError, "nested too deeply", tensor_reads)
