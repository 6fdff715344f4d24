#!/usr/bin/env bash
# Fetches ONNX Runtime from npm into a cache folder outside the sources (never committed):
#   fetch-onnxruntime.sh DEST VERSION          C# API sources + CPU native library (com.github.asus4.onnxruntime)
#   fetch-onnxruntime.sh DEST VERSION --gpu    CUDA provider libraries (com.github.asus4.onnxruntime.linux-x64-gpu)
# Idempotent: a finished fetch leaves DEST/.complete and later calls return at once.
set -euo pipefail
dest="$1"; version="$2"; gpu="${3:-}"
[ -f "$dest/.complete" ] && exit 0

if [ "$gpu" = --gpu ]; then
  package="com.github.asus4.onnxruntime.linux-x64-gpu@$version"
  members=('package/Plugins/Linux/x64/*.so')
else
  package="com.github.asus4.onnxruntime@$version"
  members=('package/Runtime/*.cs' 'package/Plugins/Linux/x64/libonnxruntime.so' 'package/LICENSE*' 'package/package.json')
fi

mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9                                   # parallel builds wait for one fetch
[ -f "$dest/.complete" ] && exit 0

command -v npm >/dev/null || { echo "error: npm is needed to fetch ONNX Runtime ($package); install Node.js" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Fetching $package from npm (once; cached in $dest)..." >&2
(cd "$work" && npm pack --silent "$package" >/dev/null)
mkdir -p "$work/out"
tar -xzf "$work"/*.tgz -C "$work/out" --wildcards "${members[@]}"
rm -rf "$dest"
mv "$work/out" "$dest"
touch "$dest/.complete"
