"""gpuflow's version (pyproject.toml's), in a module of its own so that files it is written into (SavedModels,
.keras files, ONNX models) can say which gpuflow made them without importing the package's top."""
__version__ = "0.1.0"
