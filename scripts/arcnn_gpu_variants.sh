#!/usr/bin/env bash
# Five AR-CNN variants trained side by side on one GPU for MINUTES each (scripts/arcnn_gpu.py train), then their
# weights and one reports.json (each run's history and log) copied into $OUT. This is the run that chose and
# trained the shipped bach-arcnn (variant c-192x12); run it from the repository root after
#   .venv/bin/python scripts/arcnn_gpu.py export gpu/jsb-satb-classes.npz
# with PyTorch, numpy and safetensors installed (the project's own music libraries are not needed).
# EXTRA="--channels 16 --blocks 2 --batch-size 8" DEVICE=cpu MINUTES=0.5 tries it out on a CPU.
set -u
MINUTES=${MINUTES:-8.2}
DEVICE=${DEVICE:-auto}
OUTDIR=${OUT:-/tmp/out}
RUNS=$(mktemp -d)
mkdir -p "$OUTDIR"
export PYTHONPATH=src PYTHONUNBUFFERED=1
command -v nvidia-smi >/dev/null && nvidia-smi -L
python3 -c "import torch, safetensors, numpy; print('torch', torch.__version__, torch.cuda.is_available())"
run() { name=$1; shift; python3 scripts/arcnn_gpu.py train gpu/jsb-satb-classes.npz "$RUNS" --name "$name" --minutes "$MINUTES" --threads 3 --device "$DEVICE" "$@" ${EXTRA:-} > "$RUNS/$name.log" 2>&1; echo "$name exit $?"; }
run a-128x8-old --channels 128 --blocks 8 --kinds orderless,voices,span &
run b-128x8 --channels 128 --blocks 8 &
run c-192x12 --channels 192 --blocks 12 &
run d-256x8 --channels 256 --blocks 8 &
run e-192x12-old --channels 192 --blocks 12 --kinds orderless,voices,span &
wait
for f in "$RUNS"/*.log; do echo "== $f"; tail -n 12 "$f"; done
cp "$RUNS"/*.safetensors "$OUTDIR"/ 2>/dev/null
python3 - "$OUTDIR" "$RUNS" <<'PY'
import json, pathlib, sys
reports = {p.stem: json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[2]).glob('*.json'))}
logs = {p.stem: p.read_text()[-4000:] for p in sorted(pathlib.Path(sys.argv[2]).glob('*.log'))}
pathlib.Path(sys.argv[1], 'reports.json').write_text(json.dumps({'reports': reports, 'logs': logs}, indent=1))
for name, r in reports.items():
    print(f"{name}: steps {r['steps_run']}, best {r['best_step']}, valid {r['valid_nll']:.3f}, test {r['test_nll']:.3f}")
PY
ls -la "$OUTDIR"
