#!/usr/bin/env bash
# Train a model with the project's own `opencomposer train` on a GPU machine whose image has PyTorch, numpy,
# click, rich, matplotlib and scipy but not the project's music libraries, and nothing from outside (no network).
# This is how the shipped bach-arcnn's preset runs on a GPU: the same road, recipe and card as on a laptop.
#
# 1. Here, in the repository root, gather what the machine lacks: the wheels of symusic, mido, pretty_midi,
#    importlib_resources, pySmartDL and platformdirs (.whl/), and a copy of each dataset's folder (gpu/data/), both git-ignored:
#        bash scripts/gpu_train.sh carry jsb
# 2. There (the device tool copies the working tree; name .whl and gpu in its carry), train into $OUT:
#        bash scripts/gpu_train.sh run arcnn --preset bach-arcnn --evaluate
#    which installs the wheels under /tmp/site and runs
#        opencomposer train arcnn --preset bach-arcnn --evaluate --device cuda --out $OUT/run --no-install
#    The run's folder comes back with the model (NAME.json and NAME.safetensors), events.jsonl and eval/.
set -euo pipefail
WHEELS=(symusic==0.6.0 mido==1.3.3 pretty_midi==0.2.11.post0 importlib_resources==7.1.0 pySmartDL==1.3.4 platformdirs==4.14.9)

case "${1:-}" in
carry)
    shift
    mkdir -p .whl gpu/data
    ${PYTHON:-.venv/bin/python} -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}"
    for dataset in "$@"; do
        rm -rf "gpu/data/$dataset"
        cp -rL "${SHARED_DATA:-../shared/data}/$dataset" "gpu/data/$dataset"
    done
    du -sh .whl gpu
    ;;
run)
    shift
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="$PWD/src:/tmp/site" OPENCOMPOSER_DATA="$PWD/gpu/data" OPENCOMPOSER_HOME="${OUT:-/tmp/out}/home"
    export PYTHONUNBUFFERED=1
    command -v nvidia-smi >/dev/null && nvidia-smi -L
    python3 -c "from opencomposer.cli import main; main()" train "$@" --device "${DEVICE:-cuda}" \
        --out "${OUT:-/tmp/out}/run" --no-install
    ;;
*)
    echo "usage: $0 carry DATASET-FOLDER... | run COMMAND [OPTIONS...] (see the top of this file)" >&2
    exit 2
    ;;
esac
