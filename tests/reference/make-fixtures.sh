#!/usr/bin/env bash
# Regenerates tests/VisionLabel.Tests/Fixtures/reference-*.json from the independent reference pipeline.
# Needs Node, djpeg (Debian libjpeg-turbo-progs) and ../shared beside the repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shared="${VISIONLABEL_SHARED:-$here/../../../shared}"
out="$here/../VisionLabel.Tests/Fixtures"
images="$shared/datasets/coco128/images/train2017"
mkdir -p "$out"
cd "$here"
[ -d node_modules/onnxruntime-node ] || ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund >/dev/null
node reference.mjs --model "$shared/models/yolov8n-det-int8-640.onnx" --images "$images" --count 32 --out "$out/reference-yolov8n-det-int8-640.json"
node reference.mjs --model "$shared/models/yolo11n-seg-int8-640.onnx" --images "$images" --count 16 --out "$out/reference-yolo11n-seg-int8-640.json"
node reference.mjs --model "$shared/models/yolox_nano-416.onnx" --family yolox --images "$images" --count 32 --out "$out/reference-yolox_nano-416.json"
