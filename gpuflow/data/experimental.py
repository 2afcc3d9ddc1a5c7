"""`gf.data.experimental`: the constants tf code still reaches for here, and the device transformations."""
from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY  # noqa: F401
from .device import copy_to_device, prefetch_to_device  # noqa: F401


def cardinality(dataset):
    """The number of elements of `dataset` as an int64 scalar tensor, INFINITE_CARDINALITY (-1) or
    UNKNOWN_CARDINALITY (-2), as tf.data.experimental.cardinality (Dataset.cardinality())."""
    return dataset.cardinality()


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
    """tf.data.experimental's name for `gf.data.Dataset.choose_from_datasets`."""
    from .dataset import Dataset
    return Dataset.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False):
    """tf.data.experimental's name for `gf.data.Dataset.sample_from_datasets`."""
    from .dataset import Dataset
    return Dataset.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)
