"""model.save and save_weights write atomically: the file reaches the disk (fsync) before it is
renamed over the target, a failed save leaves neither a temporary file nor a changed target, and
the temporary file of a save killed midway is removed by the next save to the same path."""
import os
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile

import pytest

import gpuflow as gf
from child_process import env_with_gpuflow
from gpuflow import file_io as atomic_file

keras = gf.keras
TARGETS = {"model": ("m.keras", lambda model, path: model.save(path)),
           "weights": ("m.weights.h5", lambda model, path: model.save_weights(path))}


def _model():
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])


@pytest.mark.parametrize("kind", TARGETS)
def test_the_file_is_fsynced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch, kind):
    name, save = TARGETS[kind]
    path = tmp_path / name
    synced, real_fsync = [], os.fsync

    def recording_fsync(fd):
        st = os.fstat(fd)
        published = os.stat(path).st_ino if path.exists() else None
        synced.append((stat.S_ISDIR(st.st_mode), st.st_ino, published))
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", recording_fsync)
    save(_model(), path)
    inode, folder = os.stat(path).st_ino, os.stat(tmp_path).st_ino
    # the data of the very inode that becomes `path`, while `path` was not it yet; then the folder's rename
    assert synced == [(False, inode, None), (True, folder, inode)]


@pytest.mark.parametrize("kind", TARGETS)
def test_a_save_that_fails_midway_leaves_no_temporary_file_and_the_old_file(tmp_path, monkeypatch, kind):
    name, save = TARGETS[kind]
    model = _model()
    save(model, tmp_path / name)
    before = (tmp_path / name).read_bytes()
    model.layers[0].kernel.assign(model.layers[0].kernel + 1.0)

    def fail_once_written(fd):
        raise OSError(5, "Input/output error")        # the disk fails as the new file is flushed
    monkeypatch.setattr(os, "fsync", fail_once_written)
    with pytest.raises(OSError, match="Input/output error"):
        save(model, tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == [name]
    assert (tmp_path / name).read_bytes() == before


KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys, zipfile
    import gpuflow as gf
    model = gf.keras.Sequential([gf.keras.Input((4,)), gf.keras.layers.Dense(2)])
    def die(*args, **kwargs):   # kill -9 once the temporary file exists, halfway through writing it
        os.kill(os.getpid(), signal.SIGKILL)
    zipfile.ZipFile.writestr = die
    model.save(sys.argv[1])
""")


@pytest.mark.skipif(os.name != "posix", reason="kill -9 and the orphan sweep are POSIX only")
def test_the_next_save_removes_the_temporary_file_of_a_killed_save(tmp_path):
    path = tmp_path / "m.keras"
    killed = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(path)], env=env_with_gpuflow(),
                              stderr=subprocess.PIPE, text=True)
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, err[-2000:]
    orphans = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(orphans) == 1 and not path.exists()
    # Temporary files that may still be in use stay: a live process's, and another host's (whose
    # process id means nothing here, even that of the dead writer).
    live = f".m.keras.{atomic_file._writer(os.getppid())}.abcd1234.tmp"
    foreign = f".m.keras.other{atomic_file._writer(killed.pid)}.abcd1234.tmp"
    for kept in (live, foreign):
        (tmp_path / kept).write_bytes(b"partial")
    _model().save(path)
    assert sorted(os.listdir(tmp_path)) == sorted([foreign, live, "m.keras"])
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
