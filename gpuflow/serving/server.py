"""The model server: a manager and a polling thread per model, the REST app, run by uvicorn.

The HTTP port opens at once, while the first versions load (their status says LOADING; predict answers 503 until
one is AVAILABLE). `--rest_api_port=0` takes a free port; the log line "Exporting HTTP/REST API at:host:port"
names it either way, as TF Serving's does.
"""
from __future__ import annotations

import contextlib
import logging
import socket
import threading

from .app import ServerState, make_app
from .batching import Batcher
from .config import ConfigError, read_model_config
from .manager import ModelManager, Poller
from .metrics import Metrics

log = logging.getLogger("gpuflow.serving")


class ModelServer:
    def __init__(self, models, poll_wait=1.0, batching=None, monitoring=None, config_file=None,
                 config_poll_wait=0.0, timeout_seconds=None, num_threads=None):
        from .config import MonitoringConfig
        self.metrics = Metrics()
        self.batching = batching
        self.poll_wait = poll_wait
        self.num_threads = num_threads
        self.state = ServerState({}, self.metrics, monitoring or MonitoringConfig(), batching, timeout_seconds)
        self._pollers = {}
        self._config_file, self._config_poll_wait = config_file, config_poll_wait
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._apply(models)

    # ---------------------------------------------------------------- models
    def _apply(self, models):
        """Serve exactly `models`: new ones get a manager and a poller, gone ones are unloaded, changed ones
        take their new policy and labels at their next poll."""
        with self._lock:
            managers = dict(self.state.managers)
            for config in models:
                manager = managers.get(config.name)
                if manager is not None and manager.config.base_path == config.base_path:
                    manager.config = config
                    continue
                if manager is not None:
                    self._remove(config.name, managers)
                manager = managers[config.name] = ModelManager(config, self._available, self._unloaded)
                self._pollers[config.name] = Poller(manager, self.poll_wait)
            for name in set(managers) - {m.name for m in models}:
                self._remove(name, managers)
            self.state.managers = managers

    def _remove(self, name, managers):
        self._pollers.pop(name).stop()
        managers.pop(name).stop()

    def _available(self, servable):
        if self.batching is not None:
            servable.batcher = Batcher(servable, self.batching, lambda signature, rows, padded: self.metrics.batch(
                servable.name, servable.version, signature, rows, padded))
        self.metrics.loaded(servable)

    def _unloaded(self, servable):
        if servable.batcher is not None:
            servable.batcher.close()
        self.metrics.unloaded(servable)

    def start_polling(self):
        self._start_pollers()
        if self._config_file and self._config_poll_wait > 0:
            threading.Thread(target=self._watch_config, name="config-poll", daemon=True).start()

    def _start_pollers(self):
        for poller in list(self._pollers.values()):
            if poller.thread.ident is None:  # not started yet
                poller.start()

    def _watch_config(self):
        """--model_config_file_poll_wait_seconds: the config file read again, its changes applied."""
        while not self._stop.wait(self._config_poll_wait):
            try:
                self._apply(read_model_config(self._config_file))
                self._start_pollers()
            except ConfigError as e:  # a half-edited file: keep serving what is configured, say why
                log.error("Reloading %s failed, the previous config stays: %s", self._config_file, e)

    def stop(self):
        self._stop.set()
        with self._lock:
            for name in list(self.state.managers):
                self._pollers[name].stop()
                self.state.managers[name].stop()

    # ---------------------------------------------------------------- HTTP
    def serve(self, host="0.0.0.0", port=8501):
        """Blocks until SIGINT/SIGTERM: polls the models and answers REST requests on host:port."""
        import anyio.to_thread
        import uvicorn

        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        threads = self.num_threads

        @contextlib.asynccontextmanager
        async def lifespan(app):
            if threads:
                anyio.to_thread.current_default_thread_limiter().total_tokens = threads
            log.info("Exporting HTTP/REST API at:%s:%d ...", host, sock.getsockname()[1])
            yield
        app = make_app(self.state)
        app.router.lifespan_context = lifespan
        self.start_polling()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                               timeout_graceful_shutdown=5))
        try:
            server.run(sockets=[sock])
        finally:
            self.stop()
            sock.close()
