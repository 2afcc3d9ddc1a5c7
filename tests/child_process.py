"""The environment for a child Python process of a test: it imports the gpuflow under test."""
import os

import gpuflow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(gpuflow.__file__)))


def env_with_gpuflow(**extra) -> dict:
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **extra}
