#!/usr/bin/env bash
# Packs what the CUDA proof runs so it fits the device tool (64 MiB a call, no network, no .NET there):
#   - a self-contained linux-x64 publish of bench/gpu/GpuProof with the CUDA build of ONNX Runtime
#     (Microsoft.ML.OnnxRuntime.Gpu.Linux, -p:VisionLabelCuda=true), so the machine needs no .NET;
#   - the two fp32 dynamic-batch YOLO models (detect, segment) and the coco128 images from ../shared;
# as one zstd-compressed tar split into parts of at most 60 MiB (a call carries one part plus the ~2.6 MiB tree: 64 MiB at most),
# with SHA-256 sums of every part and of the whole. Output: bench/gpu/parts/ (ignored by git).
#   bench/gpu/package.sh [SHARED_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
shared="$(cd "${1:-$root/../shared}" && pwd)"
parts="$here/parts"
stage="$(mktemp -d /tmp/vlgpu-package.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
command -v zstd >/dev/null || { echo "needs zstd (apt-get install zstd)" >&2; exit 1; }

# Published from a copy of the sources: the CUDA build restores other packages, and doing that in this checkout's
# obj/ folders would leave the next plain build to restore the CPU package again.
mkdir -p "$stage/src/bench/gpu"
cp "$root/Directory.Build.targets" "$stage/src/" 2>/dev/null || true
(cd "$root" && tar -cf - --exclude=bin --exclude=obj src/VisionLabel.Inference src/VisionLabel.Imaging src/VisionLabel.Shapes bench/gpu/GpuProof bench/Shared) | tar -C "$stage/src" -xf -
echo "publishing GpuProof (self-contained, CUDA build of ONNX Runtime)..." >&2
dotnet publish "$stage/src/bench/gpu/GpuProof/GpuProof.csproj" -c Release -r linux-x64 --self-contained \
  -p:VisionLabelCuda=true -o "$stage/vlgpu/app" -nologo -v q -clp:ErrorsOnly >&2
[ -f "$stage/vlgpu/app/libonnxruntime_providers_cuda.so" ] || { echo "the publish has no libonnxruntime_providers_cuda.so" >&2; exit 1; }

mkdir -p "$stage/vlgpu/shared/models/derived" "$stage/vlgpu/shared/datasets/coco128/images"
cp "$shared/models/derived/yolov8n-det-fp32dq-dynbatch-640.onnx" "$shared/models/derived/yolo11n-seg-fp32dq-dynbatch-640.onnx" "$stage/vlgpu/shared/models/derived/"
cp -r "$shared/datasets/coco128/images/train2017" "$stage/vlgpu/shared/datasets/coco128/images/"

echo "compressing..." >&2
tar -C "$stage" -cf - vlgpu | zstd -q -19 -T0 -o "$stage/vlgpu.tar.zst"
rm -rf "$parts"; mkdir -p "$parts"
split -b 60M -d -a 2 "$stage/vlgpu.tar.zst" "$parts/vlgpu.tar.zst.part"
(cd "$parts" && sha256sum vlgpu.tar.zst.part* > SHA256SUMS && sha256sum < "$stage/vlgpu.tar.zst" | sed 's/ .*/  vlgpu.tar.zst/' > WHOLE.sha256)
{
  echo "unpacked: $(du -sb "$stage/vlgpu" | cut -f1) bytes (app $(du -sb "$stage/vlgpu/app" | cut -f1), provider $(stat -c %s "$stage/vlgpu/app/libonnxruntime_providers_cuda.so"))"
  echo "compressed: $(stat -c %s "$stage/vlgpu.tar.zst") bytes"
  for p in "$parts"/vlgpu.tar.zst.part*; do echo "$(basename "$p"): $(stat -c %s "$p") bytes"; done
} | tee "$parts/SIZES"
