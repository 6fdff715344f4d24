#!/usr/bin/env bash
# Before spending device time: packs (unless parts exist), then joins the parts and runs the same command as on the
# device, on this machine's CPU (the CUDA build of ONNX Runtime runs on CPU too), with fewer repeats. Exit 0: the
# package is good; the JSON is in $OUT (default /tmp/vlgpu-out/gpu-proof.json).
#   bench/gpu/check-local.sh [--repack]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${1:-}" = --repack ] || [ ! -f "$here/parts/SHA256SUMS" ]; then "$here/package.sh"; fi
"$here/run.sh" --device cpu --batches 1,8 --repeat 1 --seconds 2
echo "the package runs: $(ls "$here/parts" | grep -c part) parts, JSON at ${OUT:-/tmp/vlgpu-out}/gpu-proof.json"
