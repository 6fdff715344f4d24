#!/usr/bin/env bash
# Downloads the models in models.json and verifies each against its sha256.
#   onnx-models/download.sh [--dest DIR] [NAME ...]     (default DIR: onnx-models/weights, default: all models)
# A file whose hash does not match is deleted and the script fails: never run a model you cannot verify.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/weights"
if [ "${1:-}" = --dest ]; then dest="$2"; shift 2; fi
mkdir -p "$dest"
command -v node >/dev/null || { echo "node is needed to read models.json" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed to download" >&2; exit 1; }

# name<TAB>file<TAB>url<TAB>sha256 for each model and attached names file.
entries=$(node -e '
  const m = require(process.argv[1]).models, want = process.argv.slice(2);
  for (const x of m.filter(x => want.length === 0 || want.includes(x.name))) {
    console.log([x.name, x.file, x.url, x.sha256].join("\t"));
    if (x.names) console.log([x.name, x.names.file, x.names.url, x.names.sha256].join("\t"));
  }' "$here/models.json" "$@")
[ -n "$entries" ] || { echo "no such model in models.json: $*" >&2; exit 1; }

status=0
while IFS=$'\t' read -r name file url sha; do
  target="$dest/$file"
  if [ -f "$target" ] && echo "$sha  $target" | sha256sum -c --quiet - 2>/dev/null; then
    echo "ok       $file"; continue
  fi
  echo "download $file ($name)"
  curl -fsSL --retry 3 -o "$target.part" "$url" || { echo "  failed to download $url" >&2; rm -f "$target.part"; status=1; continue; }
  if echo "$sha  $target.part" | sha256sum -c --quiet - 2>/dev/null; then
    mv "$target.part" "$target"; echo "  verified $sha"
  else
    echo "  sha256 mismatch for $file: expected $sha, got $(sha256sum "$target.part" | cut -d' ' -f1); deleted" >&2
    rm -f "$target.part"; status=1
  fi
done <<< "$entries"
exit $status
