"""gf.saved_model: tf.saved_model's save and load, in gpuflow's own format (format.py): traced graphs as JSON,
variables as safetensors, no pickle and no code. Loading needs none of the saved object's Python classes."""
from .assets import Asset  # noqa: F401
from .format import DEFAULT_SIGNATURE as DEFAULT_SERVING_SIGNATURE_DEF_KEY  # noqa: F401
from .load import load  # noqa: F401
from .save import save  # noqa: F401

SERVING = "serve"  # tf.saved_model.SERVING: the one tag a gpuflow SavedModel has


def contains_saved_model(export_dir) -> bool:
    """tf.saved_model.contains_saved_model: whether `export_dir` holds a SavedModel's manifest."""
    import os
    from .format import manifest_path
    return os.path.isfile(manifest_path(export_dir))
