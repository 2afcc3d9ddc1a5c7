"""Op determinism (tf.config.experimental.enable_op_determinism): same inputs, same bits, every run.

gpuflow's own kernels are deterministic already: none uses atomics (tests/core/test_determinism.py
keeps it so), reductions combine partials in a fixed order and scatter_add sorts. With the flag on,
what is left to close is refused or made deterministic where it arises:
  - a random draw with neither a global nor an op seed raises (its numbers could not repeat);
  - a user `gf.cuda.RawKernel` that calls atomics is refused unless declared deterministic;
  - cuBLAS gets a fixed workspace (CUBLAS_WORKSPACE_CONFIG), without which GEMMs on several streams
    may pick different reduction splits.
This module holds the flag and those checks; it imports nothing from gpuflow, so every layer can ask.
"""
from __future__ import annotations

import os
import re

_enabled = False

# cuBLAS reads it when a handle is created: ":4096:8" is the documented deterministic setting.
_CUBLAS_WORKSPACE = ":4096:8"
_ATOMIC_CALL = re.compile(r"\b(atomic[A-Z]\w*)\s*\(")


def enable_op_determinism():
    """Make every op give the same bits for the same inputs, or raise where it cannot (see the module)."""
    global _enabled
    _enabled = True
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", _CUBLAS_WORKSPACE)


def disable_op_determinism():
    """Turn the flag off again (TF keeps this private; tests need it)."""
    global _enabled
    _enabled = False


def is_op_determinism_enabled() -> bool:
    return _enabled


def atomic_calls(source: str) -> list[str]:
    """The atomic functions a CUDA source calls, in order of first use (comments stripped)."""
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S)
    return list(dict.fromkeys(_ATOMIC_CALL.findall(code)))


def check_raw_kernel(name: str, source: str, deterministic: bool) -> None:
    """Refuse a user kernel whose atomics could make its result depend on thread order."""
    if not _enabled or deterministic:
        return
    calls = atomic_calls(source)
    if calls:
        from .errors import UnimplementedError
        raise UnimplementedError(
            f"RawKernel {name} calls {', '.join(calls)}, and op determinism is enabled: atomics apply in "
            f"whatever order the threads arrive, so a floating-point sum can change from run to run. Write the "
            f"kernel without atomics (e.g. per-block partial sums, then a second pass that adds them in a fixed "
            f"order), or, if its atomics cannot change the result (integer counts, max/min), pass "
            f"RawKernel(..., deterministic=True)")


def require_seed(what: str) -> None:
    """Called for a draw that has neither a global nor an op seed."""
    if _enabled:
        raise RuntimeError(
            f"{what}: random ops require a seed to be set when op determinism is enabled; call "
            f"gf.random.set_seed(1) (or gf.keras.utils.set_random_seed(1)) before running it, or give the op a seed")
