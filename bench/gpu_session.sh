#!/usr/bin/env bash
# The first command of a session with a lent GPU (H100/H200): what the GPU says, what is installed,
# one kernel compiled and run, every kernel compiled into the CUBIN cache (`warm`, in a process pool, so
# the tests and benchmarks spend the GPU's minutes on the GPU, not on NVRTC), the gpu-marked tests (each
# under pytest-timeout's --timeout=$TEST_TIMEOUT_S), then bench/ops.py, bench/overhead.py and bench/fit.py,
# each with cuda first in its --devices, so a step cut off by its limit still has the GPU's numbers.
#
#   bench/gpu_session.sh [WHEEL_DIR]        (see bench/README.md, "First GPU session")
#
# Each step has its own time limit, so one that fails or hangs still leaves the others' results.
# Logs and JSON go to $OUT (./gpu-session-out when unset): summary.txt, setup.log, tests.log,
# ops.log (ops and overhead), fit.log and the benchmarks' three JSON files: 8 files, the most a device
# command brings back, so a new step appends to an existing log. The defaults fit one 10-minute device
# command; STEPS picks steps, e.g. STEPS="info smoke tests" TESTS_S=500, then STEPS="info ops overhead fit".
# Env: STEPS, PYTHON (python3), WARM_S, TESTS_S, OPS_S, OVERHEAD_S, FIT_S, GRAPHS_S (seconds), TEST_TIMEOUT_S (120, per
# test), PYTEST_ARGS, PYTEST_WORKERS (8;
# pytest-xdist workers where it is installed, 1 = none), OPS_ARGS, OVERHEAD_ARGS, FIT_ARGS.
# Exit status: 0 when every step that ran passed, else the number of steps that failed or timed out.
set -u
cd "$(dirname "$0")/.." || exit 99

export OUT=${OUT:-$PWD/gpu-session-out} PY=${PYTHON:-python3} WHEELS=${1:-}
STEPS=${STEPS:-info deps smoke warm tests ops overhead fit graphs}
WARM_S=${WARM_S:-90}                        # ~570 kernels at ~0.15 s of NVRTC each, over every core
TESTS_S=${TESTS_S:-240}
TEST_TIMEOUT_S=${TEST_TIMEOUT_S:-120}       # one hung test (a deadlock, a kernel that never ends) must not
                                            # eat the whole step: pytest-timeout fails it and goes on
OPS_S=${OPS_S:-150}
OVERHEAD_S=${OVERHEAD_S:-60}                # ~4 s on a CPU; cuda adds one NVRTC compile per op it times
FIT_S=${FIT_S:-90}
GRAPHS_S=${GRAPHS_S:-60}                    # the MLP step in 3 gpuflow modes and 2 PyTorch ones
PYTEST_ARGS=${PYTEST_ARGS---maxfail=25}  # not -x: a rare GPU session should show every kind of failure
OPS_ARGS=${OPS_ARGS---sizes 1e4,1e6,1e8}  # the targets are judged at 1e8
OVERHEAD_ARGS=${OVERHEAD_ARGS-}
FIT_ARGS=${FIT_ARGS-}
SITE=/tmp/gpuflow-site                      # where `deps` installs, behind what the machine has
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}:$SITE" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
: >"$OUT/summary.txt"
failures=0

# step NAME LOG SECONDS COMMAND...: run it if NAME is in $STEPS, time-boxed, appending to $OUT/LOG.log
step() {
  local name=$1 log=$OUT/$2.log limit=$3 start=$SECONDS rc status
  shift 3
  case " $STEPS " in *" $name "*) ;; *) return 0 ;; esac
  echo "== $name (limit ${limit}s): $*" | tee -a "$log"
  timeout -k 10 "$limit" bash -c '"$@"' "$name" "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  case $rc in
    0) status=ok ;;
    124 | 137) status="TIMEOUT after ${limit}s" ;;
    *) status="FAILED (exit $rc)" ;;
  esac
  [ "$rc" = 0 ] || failures=$((failures + 1))
  printf '%-8s %s (%ss, log %s)\n' "$name" "$status" "$((SECONDS - start))" "$(basename "$log")" \
    | tee -a "$OUT/summary.txt"
}

info() {
  nvidia-smi || echo "nvidia-smi: not found or failed"
  echo "python: $(command -v "$PY") $("$PY" --version 2>&1)"
  "$PY" - <<'EOF'
import importlib
for name in ("numpy", "ml_dtypes", "cupy", "cuda.bindings", "pynvml", "pytest", "safetensors", "torch"):
    try:
        print(f"{name:14} {getattr(importlib.import_module(name), '__version__', 'present')}")
    except Exception as e:  # noqa: BLE001 - report, never stop
        print(f"{name:14} MISSING ({type(e).__name__}: {e})")
try:
    import cupy
    rt = cupy.cuda.runtime
    print("cupy: CUDA runtime", rt.runtimeGetVersion(), "driver", rt.driverGetVersion(), "devices", rt.getDeviceCount())
except Exception as e:  # noqa: BLE001
    print("cupy cannot reach a GPU:", type(e).__name__, e)
EOF
}

# Installs what is missing: from WHEEL_DIR when given (the device machines reach no registry), else PyPI.
deps() {
  local missing=() major
  if ! "$PY" -c "import cupy" 2>/dev/null; then
    major=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: \([0-9]*\).*/\1/p' | head -1)
    missing+=("cupy-cuda$([ "${major:-12}" -ge 13 ] && echo 13 || echo 12)x")
  fi
  "$PY" -c "import cuda.bindings" 2>/dev/null || missing+=(cuda-python)
  "$PY" -c "import pynvml" 2>/dev/null || missing+=(nvidia-ml-py)
  "$PY" -c "import pytest" 2>/dev/null || missing+=(pytest)
  "$PY" -c "import pytest_timeout" 2>/dev/null || missing+=(pytest-timeout)
  "$PY" -c "import safetensors" 2>/dev/null || missing+=(safetensors)
  "$PY" -c "import ml_dtypes" 2>/dev/null || missing+=(ml_dtypes)
  [ ${#missing[@]} = 0 ] && { echo "nothing missing"; return 0; }
  echo "missing: ${missing[*]}"
  if [ -n "$WHEELS" ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl
  else
    "$PY" -m pip install -q --timeout 10 --retries 0 --target "$SITE" "${missing[@]}"
  fi
}

require_gpu() {  # the gpu tests would all be *skipped* without one, and pytest would call that a pass
  "$PY" -c "from gpuflow.devices import cuda_available; raise SystemExit(0 if cuda_available() else 1)" \
    || { echo "no usable CUDA GPU (see the info step): not running $*"; return 3; }
}

smoke() {  # one kernel compiled by NVRTC through CuPy and run, before hundreds of tests do the same
  require_gpu smoke || return
  "$PY" - <<'EOF'
import time
import numpy as np
import gpuflow as gf
from gpuflow.runtime.cuda_headers import ensure_cupy_nvrtc
print("NVRTC", ensure_cupy_nvrtc(), "- default device", gf.devices.default_device())
t = time.perf_counter()
with gf.device("cuda"):
    y = gf.exp(gf.constant(np.arange(4, dtype=np.float32)))
np.testing.assert_allclose(y.numpy(), np.exp(np.arange(4, dtype=np.float32)), rtol=1e-6)
print(f"gf.exp on cuda: ok ({time.perf_counter() - t:.2f} s, its compile included)")
EOF
}

gpu() { require_gpu "$@" && "$@"; }

export -f info deps require_gpu smoke gpu
step info setup 60 info
step deps setup 120 deps
step smoke setup 120 smoke
# Every instantiation in kernels/instantiations.txt, for this GPU's architecture, into $GPUFLOW_CACHE_DIR/cuda,
# one process per core: the tests' and benchmarks' processes then load CUBINs instead of compiling them.
step warm setup "$WARM_S" gpu "$PY" -m gpuflow.kernels warm
# pytest-xdist workers, where the machine has it, spread the tests over the CPU cores.
WORKERS=${PYTEST_WORKERS:-8}
[ "$WORKERS" -gt 1 ] && "$PY" -c "import xdist" 2>/dev/null && PYTEST_ARGS="-n $WORKERS $PYTEST_ARGS"
if "$PY" -c "import pytest_timeout" 2>/dev/null; then
  PYTEST_ARGS="--timeout=$TEST_TIMEOUT_S $PYTEST_ARGS"
elif [[ " $STEPS " == *" tests "* ]]; then
  echo "pytest-timeout is missing (the deps step installs it): the gpu tests run without a per-test limit" \
    | tee -a "$OUT/tests.log"
fi
# shellcheck disable=SC2086  # the *_ARGS are word lists
step tests tests "$TESTS_S" gpu "$PY" -m pytest -p no:hypothesispytest -p no:cacheprovider -m gpu -q $PYTEST_ARGS
# shellcheck disable=SC2086
step ops ops "$OPS_S" gpu "$PY" bench/ops.py --devices cuda,numpy --out "$OUT" $OPS_ARGS
# shellcheck disable=SC2086  # its log joins ops.log: a ninth file in $OUT would not come back
step overhead ops "$OVERHEAD_S" gpu "$PY" bench/overhead.py --devices cuda,cpu --out "$OUT" $OVERHEAD_ARGS
# shellcheck disable=SC2086
step fit fit "$FIT_S" gpu "$PY" bench/fit.py --devices cuda --out "$OUT" $FIT_ARGS
# eager / compiled / CUDA Graph step times next to torch.compile(mode="reduce-overhead"): JSON lines into fit.log
# (no results file of its own: a ninth file in $OUT would not come back)
step graphs fit "$GRAPHS_S" gpu "$PY" bench/graph_modes.py --device cuda --json

echo "== summary ($OUT)"
cat "$OUT/summary.txt"
exit "$failures"
