"""Only what pyproject.toml cannot say: the top-level kernels/ folder ships as gpuflow._kernels
(the runtime, the simulator and the NVRTC check read the .cu files from there when installed)."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["gpuflow", "gpuflow.*"]) + ["gpuflow._kernels", "gpuflow._kernels.sim",
                                                                        "gpuflow._kernels.host"],
      package_dir={"gpuflow._kernels": "kernels"})
