#!/bin/sh
# tensorflow/serving's entrypoint, for gpuflow: serve ${MODEL_BASE_PATH}/${MODEL_NAME} on port 8501. Flags given
# to `docker run ... image <flags>` follow and win (e.g. --model_config_file=/models/models.config).
exec python3 -m gpuflow.serving --port=8500 --rest_api_port=8501 \
  --model_name="${MODEL_NAME:-model}" --model_base_path="${MODEL_BASE_PATH:-/models}/${MODEL_NAME:-model}" "$@"
