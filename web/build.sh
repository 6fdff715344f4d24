#!/usr/bin/env bash
# Builds the browser app into web/dist when its sources changed: `npm ci` from the committed lockfile (only when
# node_modules is missing or older than the lockfile), then the production build. Quick when nothing changed.
set -euo pipefail
web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$web"
stamp="dist/.built"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "Installing the web app's packages (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch node_modules
fi
if [ ! -f "$stamp" ] || [ -n "$(find src index.html bench.html openapi.json package.json package-lock.json vite.config.ts tsconfig.json -newer "$stamp" -print -quit)" ]; then
  echo "Building the web app..." >&2
  npm run --silent build >&2
  touch "$stamp"
fi
