"""`gf.keras.metrics`: stateful metrics (Keras 3) and `get`/`serialize`/`deserialize`.

`get` resolves a name to the metric function ('accuracy', 'mse', 'sparse_categorical_accuracy', ...)
or, for a class name ('AUC', 'Precision'), to a new instance, as Keras does; a dict is a
serialized metric; a Metric or function is returned as is.
"""
from __future__ import annotations

from ..engine.base_layer import to_snake_case
from ..losses import (binary_crossentropy, categorical_crossentropy, kl_divergence, mean_absolute_error,
                      mean_squared_error, sparse_categorical_crossentropy)
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy, binary_accuracy,
                       categorical_accuracy, in_top_k, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .confusion import AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .classification import CosineSimilarity, F1Score, FBetaScore, MeanIoU, cosine_similarity
from .regression import MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Precision",
           "Recall", "AUC", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "FBetaScore",
           "F1Score", "MeanIoU", "CosineSimilarity", "cosine_similarity", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "in_top_k", "get", "serialize", "deserialize"]

CLASSES = {c.__name__: c for c in (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                   TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision, Recall, AUC,
                                   MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, TruePositives,
                                   FalsePositives, TrueNegatives, FalseNegatives, FBetaScore, F1Score, MeanIoU,
                                   CosineSimilarity)}
FUNCTIONS = {fn.__name__: fn for fn in (accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                                        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
                                        mean_squared_error, mean_absolute_error, binary_crossentropy,
                                        categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence,
                                        cosine_similarity)}
FUNCTIONS.update(acc=accuracy, mse=mean_squared_error, MSE=mean_squared_error, mae=mean_absolute_error,
                 MAE=mean_absolute_error, kld=kl_divergence, KLD=kl_divergence)
# Keras 3 also resolves a class's snake_case name to a new instance ('root_mean_squared_error', 'auc'); a function
# of that name wins ('mean_squared_error' is the function). There is no 'rmse' alias in Keras, so none here.
SNAKE_CLASSES = {to_snake_case(name): cls for name, cls in CLASSES.items() if to_snake_case(name) not in FUNCTIONS}


def serialize(metric):
    """A metric as a config dict (a Metric object) or its name (a built-in metric function), for saving."""
    if isinstance(metric, Metric):
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    name = getattr(metric, "__name__", None)
    if FUNCTIONS.get(name) is metric:
        return name
    raise ValueError(f"cannot serialize metric {metric!r:.80}: use a gpuflow metric, or a Metric subclass with "
                     f"get_config")


def deserialize(config, custom_objects=None):
    """The metric a name or config dict (from serialize) describes; `custom_objects` maps your own names."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"cannot deserialize a metric from {config!r:.80}: expected a name or "
                         f"{{'class_name': ..., 'config': {{...}}}}")
    cls = (custom_objects or {}).get(config["class_name"]) or CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"unknown metric class {config['class_name']!r}; known: {sorted(CLASSES)}")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """The metric an identifier names: a function name ('accuracy'), a class name or its snake_case form, a
        config dict, or a Metric or callable (returned as is).
    """
    if identifier is None or isinstance(identifier, Metric) or (callable(identifier) and not isinstance(identifier,
                                                                                                          type)):
        return identifier
    if isinstance(identifier, str):
        if identifier in FUNCTIONS:
            return FUNCTIONS[identifier]
        cls = CLASSES.get(identifier) or SNAKE_CLASSES.get(identifier)
        if cls is not None:
            return cls()
        hint = " (Keras has no 'rmse' alias: use 'root_mean_squared_error' or RootMeanSquaredError())" \
            if identifier.lower() == "rmse" else ""
        raise ValueError(f"unknown metric {identifier!r}{hint}; known names: "
                         f"{', '.join(sorted(set(FUNCTIONS) | set(CLASSES) | set(SNAKE_CLASSES)))}")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"cannot interpret {identifier!r:.80} as a metric: give a name, a function, a Metric or a config")
