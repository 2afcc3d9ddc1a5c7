"""`gpuflow-serve` / `python -m gpuflow.serving`: TF Serving's tensorflow_model_server flags.

    gpuflow-serve --model_name=mnist --model_base_path=/models/mnist --rest_api_port=8501
    gpuflow-serve --model_config_file=/models/models.config --enable_batching \\
                  --batching_parameters_file=/models/batching.config
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from .config import (BatchingParameters, ConfigError, ModelConfig, check_batching, read_batching_parameters,
                     read_model_config, read_monitoring_config)

log = logging.getLogger("gpuflow.serving")


def _bool(text) -> bool:
    lowered = str(text).lower()
    if lowered in ("1", "true", "t", "yes"):
        return True
    if lowered in ("0", "false", "f", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpuflow-serve", description="Serve gpuflow SavedModels over TF Serving's "
                                "REST API.", allow_abbrev=False)
    add = p.add_argument
    add("--model_name", default="default", help="name of the model served with --model_base_path")
    add("--model_base_path", default="", help="folder holding the model's versions as numbered subfolders")
    add("--model_config_file", default="", help="ModelServerConfig in text format (if given, the two above are "
        "ignored)")
    add("--model_config_file_poll_wait_seconds", type=float, default=0,
        help="re-read --model_config_file this often (0: read once)")
    add("--rest_api_port", type=int, default=8501, help="HTTP port of the REST API (0: any free port)")
    add("--rest_api_host", default="0.0.0.0", help="address to listen on (gpuflow's addition; TF Serving "
        "listens on every address)")
    add("--rest_api_num_threads", type=int, default=4 * (os.cpu_count() or 1),
        help="threads running requests (without batching)")
    add("--rest_api_timeout_in_ms", type=int, default=30000, help="a prediction taking longer answers 504")
    add("--file_system_poll_wait_seconds", type=float, default=1, help="look for new versions this often "
        "(0: once, at start)")
    add("--enable_batching", type=_bool, nargs="?", const=True, default=False,
        help="merge concurrent requests to a signature into one batch")
    add("--batching_parameters_file", default="", help="BatchingParameters in text format")
    add("--monitoring_config_file", default="", help="MonitoringConfig in text format (prometheus_config)")
    add("--port", type=int, default=8500, help="TF Serving's gRPC port: accepted, but gpuflow serves REST only")
    return p


def configure(argv=None):
    """(ModelServer, host, port) for the command line, every file read and checked."""
    from .server import ModelServer
    args = parser().parse_args(argv)
    if not args.model_config_file and not args.model_base_path:
        raise ConfigError("give either --model_config_file, or --model_base_path (with --model_name)")
    if args.model_config_file:  # as in TF Serving, it wins: --model_name and --model_base_path are ignored
        models = read_model_config(args.model_config_file)
    else:
        models = [ModelConfig(args.model_name, os.path.abspath(args.model_base_path))]
    batching = None
    if args.enable_batching:
        batching = (read_batching_parameters(args.batching_parameters_file) if args.batching_parameters_file
                    else BatchingParameters())
        check_batching(batching, "--enable_batching")
    elif args.batching_parameters_file:
        raise ConfigError("--batching_parameters_file needs --enable_batching")
    monitoring = read_monitoring_config(args.monitoring_config_file) if args.monitoring_config_file else None
    if args.port != 8500:
        log.warning("--port=%d: gpuflow serves no gRPC API; clients use the REST API on --rest_api_port", args.port)
    server = ModelServer(models, poll_wait=args.file_system_poll_wait_seconds, batching=batching,
                         monitoring=monitoring, config_file=args.model_config_file or None,
                         config_poll_wait=args.model_config_file_poll_wait_seconds,
                         timeout_seconds=args.rest_api_timeout_in_ms / 1000 if args.rest_api_timeout_in_ms > 0
                         else None, num_threads=args.rest_api_num_threads)
    return server, args.rest_api_host, args.rest_api_port


def main(argv=None) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        import prometheus_client  # noqa: F401
    except ImportError as e:
        print(f"gpuflow-serve needs the serving extra ({e.name} is missing): pip install 'gpuflow[serving]'",
              file=sys.stderr)
        return 2
    try:
        server, host, port = configure(argv)
    except ConfigError as e:
        print(f"gpuflow-serve: {e}", file=sys.stderr)
        return 2
    for manager in server.state.managers.values():
        log.info("Serving model %s from %s (%s)", manager.name, manager.config.base_path,
                 manager.config.policy.kind)
    server.serve(host, port)
    return 0
