"""The server's Prometheus metrics (prometheus-client, in a registry of its own), served at
/monitoring/prometheus/metrics or the path the monitoring config gives."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 - the response's content type

_LATENCY_BUCKETS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("gpuflow_serving_request_count", "REST requests by model, version, API and status "
                                "code", ["model", "version", "api", "status"], registry=self.registry)
        self.latency = Histogram("gpuflow_serving_request_latency_seconds", "Time from a request's arrival to its "
                                 "response", ["model", "version", "api"], buckets=_LATENCY_BUCKETS,
                                 registry=self.registry)
        self.batch_size = Histogram("gpuflow_serving_batch_size", "Requests' rows in each batch run (--enable_"
                                    "batching)", ["model", "version", "signature"], buckets=_BATCH_BUCKETS,
                                    registry=self.registry)
        self.padded_batch_size = Histogram("gpuflow_serving_padded_batch_size", "Rows of each batch run, padding "
                                           "to allowed_batch_sizes included", ["model", "version", "signature"],
                                           buckets=_BATCH_BUCKETS, registry=self.registry)
        self.load_seconds = Gauge("gpuflow_serving_model_load_seconds", "Time the version took to load and warm "
                                  "up", ["model", "version"], registry=self.registry)
        self.available = Gauge("gpuflow_serving_model_available", "1 while the version is AVAILABLE",
                               ["model", "version"], registry=self.registry)

    def request(self, model, version, api, status, seconds):
        self.requests.labels(model, version, api, status).inc()
        self.latency.labels(model, version, api).observe(seconds)

    def batch(self, model, version, signature, rows, padded):
        self.batch_size.labels(model, str(version), signature).observe(rows)
        self.padded_batch_size.labels(model, str(version), signature).observe(padded)

    def loaded(self, servable):
        self.load_seconds.labels(servable.name, str(servable.version)).set(servable.load_seconds)
        self.available.labels(servable.name, str(servable.version)).set(1)

    def unloaded(self, servable):
        self.available.labels(servable.name, str(servable.version)).set(0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
