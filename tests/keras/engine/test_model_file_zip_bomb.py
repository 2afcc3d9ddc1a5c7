"""load_model refuses `.keras` archives whose entries would inflate past a cap (zip bombs), by the size
the archive declares and by a bounded read when the declaration lies, under a 2 GiB memory limit."""
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import pytest

import gpuflow as gf
from child_process import env_with_gpuflow

keras = gf.keras
MIB = 1 << 20
BOMB_MIB = 1430                      # config.json inflates to 1.5 GB (1430 MiB) ...
SCRIPT = textwrap.dedent("""
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    import gpuflow as gf
    for path in sys.argv[1:]:
        start = time.perf_counter()
        try:
            gf.keras.models.load_model(path)
        except ValueError as e:
            print(f"ValueError after {time.perf_counter() - start:.3f} s: {e}", flush=True)
        else:
            print("loaded", flush=True)
""")


def _write_zip(path, entries):
    """A plain zip written by hand, so that an entry can carry an already deflated payload and any
    declared size: entries are (name, method, crc, declared uncompressed size, payload)."""
    central = []
    with open(path, "wb") as f:
        for name, method, crc, size, payload in entries:
            offset, encoded = f.tell(), name.encode()
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), size,
                                len(encoded), 0) + encoded + payload)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                                       len(payload), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        start, directory = f.tell(), b"".join(central)
        f.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory),
                                        start, 0))


def _stored(name, data):
    return name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), data


def _bomb_config():
    """(crc, size, deflate payload) of BOMB_MIB MiB of spaces and then `{}`, valid JSON. The payload is
    one fully flushed MiB repeated (a full flush makes each copy independent of what came before), so
    it takes ~1.5 MB and no time to make, where deflating 1.5 GB would take seconds."""
    spaces = b" " * MIB
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    one_mib = head.compress(spaces) + head.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = one_mib * BOMB_MIB + tail.compress(b"{}") + tail.flush()
    crc = 0
    for _ in range(BOMB_MIB):
        crc = zlib.crc32(spaces, crc)
    return zlib.crc32(b"{}", crc), BOMB_MIB * MIB + 2, payload


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """An honest bomb (its header declares the 1.5 GB), one whose header claims 1000 bytes, and the
    small model file they were made from."""
    folder = tmp_path_factory.mktemp("bombs")
    small = folder / "small.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(small)
    with zipfile.ZipFile(small) as archive:
        metadata, weights = archive.read("metadata.json"), archive.read("model.weights.safetensors")
    crc, size, payload = _bomb_config()
    made = {}
    for kind, declared in (("honest", size), ("lying", 1000)):
        made[kind] = folder / f"{kind}.keras"
        _write_zip(made[kind], [_stored("metadata.json", metadata),
                                ("config.json", zipfile.ZIP_DEFLATED, crc, declared, payload),
                                _stored("model.weights.safetensors", weights)])
    made["small"] = small
    return made


def test_the_bomb_is_a_valid_archive_of_a_huge_config(archives):
    # What an unbounded reader would get: a few MB of file, 1.5 GB of valid JSON.
    assert os.path.getsize(archives["honest"]) < 2 * MIB
    with zipfile.ZipFile(archives["honest"]) as archive:
        assert archive.getinfo("config.json").file_size == BOMB_MIB * MIB + 2
        with archive.open("config.json") as entry:
            assert entry.read(MIB) == b" " * MIB


def test_a_zip_bomb_is_refused_quickly_under_a_2_gib_memory_limit(archives):
    env = env_with_gpuflow(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")  # no per-thread buffers in the 2 GiB
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(archives["honest"]), str(archives["lying"])],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    honest, lying = run.stdout.splitlines()
    assert honest.startswith("ValueError") and "config.json declares 1,499,463,682 bytes" in honest
    assert "more than the 64 MiB gpuflow reads for it" in honest
    assert lying.startswith("ValueError") and "config.json is damaged" in lying
    for line in (honest, lying):
        assert float(line.split()[2]) < 1.0, line


def test_weights_larger_than_the_file_are_refused(archives, tmp_path):
    # gpuflow stores weights uncompressed: a weights entry that inflates past the file is forged.
    with zipfile.ZipFile(archives["small"]) as archive:
        metadata, config = archive.read("metadata.json"), archive.read("config.json")
    weights = b"\0" * (4 * MIB)
    path = tmp_path / "deflated.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("metadata.json", metadata), ("config.json", config),
                           ("model.weights.safetensors", weights)):
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"model.weights.safetensors declares 4,194,304 bytes, more than the "
                                         r"file's own size \(\d[\d,]* bytes\), as gpuflow stores weights "
                                         r"uncompressed"):
        keras.models.load_model(path)
