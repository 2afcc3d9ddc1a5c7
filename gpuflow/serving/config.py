"""TF Serving's config files (text format) as checked Python objects.

- `--model_config_file`: ModelServerConfig { model_config_list { config { name base_path model_platform
  model_version_policy { latest { num_versions } | all {} | specific { versions } } version_labels { key value }
  } } }
- `--batching_parameters_file`: BatchingParameters (max_batch_size, batch_timeout_micros, max_enqueued_batches,
  num_batch_threads, allowed_batch_sizes, pad_variable_length_inputs), each number plain or as `{ value: N }`.
- `--monitoring_config_file`: MonitoringConfig { prometheus_config { enable path } }.
A field these messages do not have, or a wrong type, is an error naming the file, as TF Serving's parser makes it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .text_format import TextFormatError, parse

DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class VersionPolicy:
    kind: str = "latest"             # latest, all or specific
    num_versions: int = 1            # latest
    versions: tuple = ()             # specific

    def select(self, on_disk) -> set:
        """The versions to serve among those on disk."""
        if self.kind == "all":
            return set(on_disk)
        if self.kind == "specific":
            return set(self.versions) & set(on_disk)
        return set(sorted(on_disk)[-self.num_versions:]) if self.num_versions else set()


@dataclass(frozen=True)
class ModelConfig:
    name: str
    base_path: str
    policy: VersionPolicy = field(default_factory=VersionPolicy)
    labels: dict = field(default_factory=dict)   # label → version


@dataclass(frozen=True)
class BatchingParameters:
    # TF Serving's defaults (BasicBatchScheduler's) where the file leaves a field out
    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple = ()


@dataclass(frozen=True)
class MonitoringConfig:
    enable: bool = True
    path: str = DEFAULT_METRICS_PATH


# ---------------------------------------------------------------- reading
class _Fields:
    """One parsed message with its source, read field by field with type checks."""

    def __init__(self, message, where, allowed):
        unknown = sorted(set(message) - set(allowed))
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {unknown}; this message has {sorted(allowed)}")
        self.message, self.where = message, where

    def values(self, name):
        return self.message.get(name, [])

    def one(self, name, kind, default=None, required=False):
        values = self.values(name)
        if not values:
            if required:
                raise ConfigError(f"{self.where}: {name} is required")
            return default
        if len(values) > 1 and kind is not dict:
            raise ConfigError(f"{self.where}: {name} is given {len(values)} times")
        value = values[-1]
        return _typed(value, kind, f"{self.where}: {name}")

    def number(self, name, default):
        """A number written plainly or as a wrapper message `{ value: N }` (google.protobuf.Int64Value)."""
        value = self.one(name, object, None)
        if value is None:
            return default
        if isinstance(value, dict):
            value = _Fields(value, f"{self.where}: {name}", {"value"}).one("value", int, default)
        value = _typed(value, int, f"{self.where}: {name}")
        if value < 0:
            raise ConfigError(f"{self.where}: {name} must be >= 0, got {value}")
        return value


def _typed(value, kind, where):
    if kind is object:
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}: expected {'a message' if kind is dict else kind.__name__}, got {value!r:.60}")
    return value


def _read(path, what) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"{what} {path}: cannot read it ({e.strerror})") from None
    try:
        return parse(text, path)
    except TextFormatError as e:
        raise ConfigError(f"{what}: {e}") from None


def read_model_config(path) -> list[ModelConfig]:
    top = _Fields(_read(path, "--model_config_file"), path, {"model_config_list"})
    configs = _Fields(top.one("model_config_list", dict, required=True), f"{path}: model_config_list", {"config"})
    models = [_model(entry, f"{path}: config[{i}]") for i, entry in enumerate(configs.values("config"))]
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{path}: models named {dupes} are configured more than once")
    if not models:
        raise ConfigError(f"{path}: model_config_list has no config")
    return models


def _model(entry, where) -> ModelConfig:
    fields = _Fields(_typed(entry, dict, where), where, {"name", "base_path", "model_platform", "model_version_policy",
                                                         "version_labels", "logging_config"})
    name = fields.one("name", str, required=True)
    where = f"{where} ({name})"
    platform = fields.one("model_platform", str, "tensorflow")
    if platform != "tensorflow":
        raise ConfigError(f"{where}: model_platform {platform!r} is not served; gpuflow serves SavedModels "
                          f"(model_platform \"tensorflow\")")
    labels = {}
    for i, label in enumerate(fields.values("version_labels")):
        pair = _Fields(_typed(label, dict, f"{where}: version_labels"), f"{where}: version_labels[{i}]",
                       {"key", "value"})
        labels[pair.one("key", str, required=True)] = pair.one("value", int, required=True)
    return ModelConfig(name, fields.one("base_path", str, required=True),
                       _policy(fields.one("model_version_policy", dict), where), labels)


def _policy(entry, where) -> VersionPolicy:
    if entry is None:
        return VersionPolicy()
    fields = _Fields(entry, f"{where}: model_version_policy", {"latest", "all", "specific"})
    chosen = [k for k in ("latest", "all", "specific") if fields.values(k)]
    if len(chosen) != 1:
        raise ConfigError(f"{where}: model_version_policy must hold exactly one of latest, all, specific")
    body = fields.one(chosen[0], dict)
    if chosen[0] == "latest":
        latest = _Fields(body, f"{where}: latest", {"num_versions"})
        return VersionPolicy("latest", num_versions=latest.number("num_versions", 1))
    if chosen[0] == "all":
        _Fields(body, f"{where}: all", set())
        return VersionPolicy("all")
    versions = _Fields(body, f"{where}: specific", {"versions"}).values("versions")
    if not versions:
        raise ConfigError(f"{where}: specific needs at least one versions entry")
    return VersionPolicy("specific", versions=tuple(_typed(v, int, f"{where}: specific.versions") for v in versions))


def read_batching_parameters(path) -> BatchingParameters:
    fields = _Fields(_read(path, "--batching_parameters_file"), path,
                     {"max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads",
                      "allowed_batch_sizes", "pad_variable_length_inputs", "thread_pool_name"})
    if fields.one("pad_variable_length_inputs", bool, False):
        raise ConfigError(f"{path}: pad_variable_length_inputs: true is not supported (requests are merged only "
                          f"when their shapes agree past the batch dim)")
    defaults = BatchingParameters()
    params = BatchingParameters(
        max_batch_size=fields.number("max_batch_size", defaults.max_batch_size),
        batch_timeout_micros=fields.number("batch_timeout_micros", defaults.batch_timeout_micros),
        max_enqueued_batches=fields.number("max_enqueued_batches", defaults.max_enqueued_batches),
        num_batch_threads=fields.number("num_batch_threads", defaults.num_batch_threads),
        allowed_batch_sizes=tuple(_typed(v, int, f"{path}: allowed_batch_sizes")
                                  for v in fields.values("allowed_batch_sizes")))
    check_batching(params, path)
    return params


def check_batching(params, where):
    """TF Serving's own rules for these parameters."""
    if params.max_batch_size < 1 or params.num_batch_threads < 1 or params.max_enqueued_batches < 1:
        raise ConfigError(f"{where}: max_batch_size, num_batch_threads and max_enqueued_batches must be >= 1")
    sizes = list(params.allowed_batch_sizes)
    if sizes:
        if sizes != sorted(set(sizes)) or sizes[0] < 1:
            raise ConfigError(f"{where}: allowed_batch_sizes {sizes} must be positive and increasing")
        if sizes[-1] != params.max_batch_size:
            raise ConfigError(f"{where}: the last of allowed_batch_sizes ({sizes[-1]}) must equal max_batch_size "
                              f"({params.max_batch_size})")


def read_monitoring_config(path) -> MonitoringConfig:
    top = _Fields(_read(path, "--monitoring_config_file"), path, {"prometheus_config"})
    prometheus = top.one("prometheus_config", dict)
    if prometheus is None:
        return MonitoringConfig(enable=False)
    fields = _Fields(prometheus, f"{path}: prometheus_config", {"enable", "path"})
    metrics_path = fields.one("path", str, DEFAULT_METRICS_PATH) or DEFAULT_METRICS_PATH
    if not metrics_path.startswith("/") or metrics_path.startswith("/v1/"):
        raise ConfigError(f"{path}: prometheus_config.path {metrics_path!r} must start with '/' and not with /v1/")
    return MonitoringConfig(enable=fields.one("enable", bool, False), path=metrics_path)
