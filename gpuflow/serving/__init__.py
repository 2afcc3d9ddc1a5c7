"""A model server for gpuflow SavedModels that speaks TensorFlow Serving's REST API (gpuflow[serving]:
starlette, uvicorn, prometheus-client). Run it as `gpuflow-serve` or `python -m gpuflow.serving`; see
docs/serving.md. Modules: cli (flags), config and text_format (TF Serving's config files), manager (versions),
servable (one loaded version), app and codec (the REST API), batching, metrics, server."""
