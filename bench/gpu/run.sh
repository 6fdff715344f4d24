#!/usr/bin/env bash
# The CUDA proof, on the device machine (or locally with --device cpu; bench/gpu/check-local.sh):
# joins bench/gpu/parts and checks every part and the whole against their SHA-256 sums, unpacks, points
# LD_LIBRARY_PATH at the CUDA 13 and cuDNN 9 libraries of the machine's pip packages (nvidia-*), and runs GpuProof:
# CPU reference, then the device at batch 1, 8 and 32; CUDA problems fail the run (no fallback to CPU).
# Writes $OUT/gpu-proof.json (every figure, the GPU, the driver, the library versions) and $OUT/gpu-proof.log.
#   bench/gpu/run.sh [--device cuda|cpu] [--batches 1,8,32] [--repeat 8] [--seconds 5]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
parts="${PARTS:-$here/parts}"
out="${OUT:-/tmp/vlgpu-out}"
work="${VLGPU_WORK:-/tmp/vlgpu-run}"
device=cuda; batches=1,8,32; repeat=8; seconds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;; --batches) batches="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;; --seconds) seconds="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"

(cd "$parts" && sha256sum -c --quiet SHA256SUMS) || { echo "a part is missing or damaged: $(ls "$parts")" >&2; exit 3; }
whole="$(cat "$parts"/vlgpu.tar.zst.part* | sha256sum | cut -d' ' -f1)"
[ "$whole" = "$(cut -d' ' -f1 "$parts/WHOLE.sha256")" ] || { echo "the joined parts do not match WHOLE.sha256" >&2; exit 3; }
rm -rf "$work"; mkdir -p "$work"
cat "$parts"/vlgpu.tar.zst.part* | zstd -q -d | tar -C "$work" -xf -

export VLGPU_DEVICE_INFO="cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
if [ "$device" = cuda ]; then
  # The CUDA provider needs libcudart.so.13, libcublas(Lt).so.13, libcurand.so.10 and cuDNN 9: the machine has them
  # as pip packages (nvidia-cuda-runtime, nvidia-cublas, nvidia-curand, nvidia-cudnn-cu13), not on the library path.
  libs="$(python3 - <<'PY'
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if p.endswith("site-packages")])
found = sorted({os.path.dirname(f) for r in roots for f in glob.glob(os.path.join(r, "nvidia", "**", "lib*.so*"), recursive=True)})
print(":".join(found))
PY
)"
  [ -n "$libs" ] || { echo "no nvidia-* pip libraries found for CUDA" >&2; exit 4; }
  export LD_LIBRARY_PATH="$libs:${LD_LIBRARY_PATH:-}"
  export VLGPU_GPU="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 1)"
  export VLGPU_CUDA_LIBS="$(python3 -m pip list 2>/dev/null | grep -iE '^nvidia-(cuda-runtime|cublas|curand|cudnn)' | tr -s ' ' | paste -sd ';' -)"
fi
rm -f "$out/gpu-proof.json" # a result left by an earlier run never passes for this one
code=0
"$work/vlgpu/app/GpuProof" --shared "$work/vlgpu/shared" --device "$device" --batches "$batches" --repeat "$repeat" \
  --seconds "$seconds" --out "$out/gpu-proof.json" >"$out/gpu-proof.log" 2>&1 || code=$?
grep -v '^[][ {}"]' "$out/gpu-proof.log" || true # the progress lines (the JSON is in its own file)
[ "$code" -eq 0 ] && test -s "$out/gpu-proof.json" && ! grep -q '"pass": false' "$out/gpu-proof.json"
