"""The REST API (TF Serving's api_rest.md) as a Starlette app.

    GET  /v1/models/{name}[/versions/{v} | /labels/{l}]              model status
    GET  /v1/models/{name}[/versions/{v} | /labels/{l}]/metadata     signature defs
    POST /v1/models/{name}[/versions/{v} | /labels/{l}]:predict      row or columnar predict
    POST ...:classify / ...:regress                                  501: gpuflow serves predict only
    GET  /monitoring/prometheus/metrics                              Prometheus metrics (monitoring config)

Errors answer {"error": message} with the HTTP status of their TF status code (errors.py). Model work runs in
worker threads (or the batcher's), never on the event loop.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import codec
from .errors import ServingError, invalid, not_found

_PATH = re.compile(r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>-?\d+)|/labels/(?P<label>[^/:]+))?"
                   r"(?P<tail>/metadata|:predict|:classify|:regress)?")
log = logging.getLogger("gpuflow.serving")
_METHOD = {None: "GET", "/metadata": "GET", ":predict": "POST", ":classify": "POST", ":regress": "POST"}
_API = {None: "status", "/metadata": "metadata", ":predict": "predict", ":classify": "classify", ":regress": "regress"}


class ServerState:
    """What the handlers share: the models' managers by name, the metrics, batching and limits."""

    def __init__(self, managers, metrics, monitoring, batching=None, timeout_seconds=None):
        self.managers, self.metrics, self.monitoring = managers, metrics, monitoring
        self.batching = batching            # BatchingParameters, or None without --enable_batching
        self.timeout_seconds = timeout_seconds

    def manager(self, name):
        manager = self.managers.get(name)
        if manager is None:
            raise not_found(f"Servable not found for request: Latest({name})")
        return manager


def _json_response(value, status=200) -> Response:
    return Response(codec.dumps(value), status_code=status, media_type="application/json")


def error_response(error: ServingError) -> Response:
    return _json_response({"error": error.message}, error.http_status)


def make_app(state: ServerState) -> Starlette:
    async def models(request: Request) -> Response:
        path = request.url.path
        match = _PATH.fullmatch(path)
        api, model, version, status = "unknown", "", "", "OK"
        start = time.perf_counter()
        try:
            if match is None or _METHOD[match["tail"]] != request.method:
                raise invalid(f"Malformed request: {request.method} {path}")
            name, tail = match["name"], match["tail"]
            api = _API[tail]
            number = None if match["version"] is None else int(match["version"])
            label = match["label"]
            manager = state.manager(name)
            model = name  # only a configured model's name becomes a metrics label
            if tail is None:
                return _json_response(manager.status(number, label))
            if tail in (":classify", ":regress"):
                raise ServingError("UNIMPLEMENTED", f"{tail[1:]} is not supported: gpuflow serves the predict API "
                                                    f"(POST .../models/{name}:predict)")
            servable = manager.resolve(number, label)
            version = str(servable.version)
            if tail == "/metadata":
                return _json_response(servable.metadata())
            return _json_response(await _predict(state, servable, await request.body()))
        except ServingError as e:
            status = e.code
            return error_response(e)
        except Exception as e:  # noqa: BLE001 - a failure inside the model: said, not a bare 500 page
            log.exception("%s %s failed", request.method, path)
            status = "INTERNAL"
            return error_response(ServingError(status, f"{type(e).__name__}: {e}"))
        finally:
            state.metrics.request(model, version, api, status, time.perf_counter() - start)

    async def metrics(request: Request) -> Response:
        from .metrics import CONTENT_TYPE_LATEST
        return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def not_served(request: Request) -> Response:
        return _json_response({"error": f"Malformed request: {request.method} {request.url.path}"}, 404)

    routes = [Route("/v1/models/{rest:path}", models, methods=["GET", "POST"])]
    if state.monitoring.enable:
        routes.append(Route(state.monitoring.path, metrics, methods=["GET"]))
    routes.append(Route("/{rest:path}", not_served, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
    return Starlette(routes=routes)


async def _predict(state, servable, body) -> dict:
    request = codec.parse_predict(codec.parse_body(body), servable)
    work = _outputs(servable, request)
    try:
        outputs = await asyncio.wait_for(work, state.timeout_seconds) if state.timeout_seconds else await work
    except asyncio.TimeoutError:
        raise ServingError("DEADLINE_EXCEEDED", f"the prediction took longer than {state.timeout_seconds} s "
                                                f"(--rest_api_timeout_in_ms)") from None
    return codec.predict_response(outputs, request)


async def _outputs(servable, request):
    """In a batch where batching is on and the request allows it, else alone on a worker thread."""
    batcher = servable.batcher
    outputs = None if batcher is None else await batcher.run(request.signature_name, request.inputs)
    if outputs is None:
        outputs = await run_in_threadpool(servable.run, request.signature_name, request.inputs)
    return outputs

