"""Kernel tooling: `python -m gpuflow.kernels check` compiles every kernel we ship with NVRTC, `warm` fills
the CUBIN cache ahead.

The instantiations compiled are those listed in kernels/instantiations.txt (gpuflow.runtime.sources), which
the test suite keeps complete: every (file, name expression) launched on `sim` must be listed there
(tests/test_kernel_coverage.py), so the check covers what actually runs. The compiling itself is the
runtime's (gpuflow.runtime.nvrtc): this package sits above it and only drives it.
"""
