"""`gf.keras.datasets`: `mnist` and `fashion_mnist` (downloaded once, checked by SHA-256, cached in
$GPUFLOW_DATA_DIR or ~/.gpuflow/datasets) and `digits` (small, shipped inside gpuflow, works offline)."""
from . import digits, fashion_mnist, mnist  # noqa: F401
