#!/usr/bin/env bash
# Starts a throwaway server (SQLite, temp data folder), makes a project with one image, and runs load.mjs.
#   bench/collab-load/run.sh [--editors 50] [--watchers 10] [--rate 5] [--seconds 20]
# SERVER_DLL=path/VisionLabel.Server.dll runs that build instead of this checkout's (e.g. an earlier revision);
# FLOOR_DLL=path/SignalRFloor.dll runs the broadcast-only hub of bench/signalr-floor (no project, no image needed).
# bench/collab-load/compare.sh runs all three in one sitting.
# METRICS_SCRAPE=5 scrapes /metrics every 5 s during the load (as Prometheus would), with a metrics token.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/../.."
data="$(mktemp -d /tmp/visionlabel-collab.XXXXXX)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
[ -d "$here/node_modules/@microsoft/signalr" ] || (cd "$here" && npm install --no-audit --no-fund >/dev/null)
if [ -n "${FLOOR_DLL:-}" ]; then
  dotnet "$FLOOR_DLL" --urls "$url" >"$data/server.log" 2>&1 &
elif [ -n "${SERVER_DLL:-}" ]; then
  dotnet "$SERVER_DLL" serve --urls "$url" --data "$data" --Logging:LogLevel:Default=Warning >"$data/server.log" 2>&1 &
else
  "$root/visionlabel" serve --urls "$url" --data "$data" --Logging:LogLevel:Default=Warning >"$data/server.log" 2>&1 &
fi
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do curl -sf "$url/health" >/dev/null && break; sleep 0.5; done

if [ -n "${FLOOR_DLL:-}" ]; then
  uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }
  node "$here/load.mjs" --url "$url" --image "$(uuid)" --labels "$(uuid),$(uuid),$(uuid)" "$@"
  exit
fi
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# An admin account and a write token, made by the CLI on the server's data directory (as a headless set-up does).
cli() { if [ -n "${SERVER_DLL:-}" ]; then dotnet "$SERVER_DLL" "$@"; else "$root/visionlabel" "$@"; fi; }
# (A build from before accounts has no such verbs: then there is no token, and none is needed.)
echo "bench-password-long-enough" | cli users add bench --admin --password-stdin --data "$data" >/dev/null 2>&1 || true
token=$(cli tokens create --user bench --scope write --data "$data" 2>/dev/null | grep '^vlpat_' || true)
auth="Authorization: Bearer $token"
project=$(curl -sf -XPOST "$url/api/projects" -H "$auth" -H 'content-type: application/json' \
  -d '{"name":"load","labels":[{"name":"a"},{"name":"b"},{"name":"c"}]}')
project_id=$(echo "$project" | json 'd["id"]')
labels=$(echo "$project" | json '",".join(l["id"] for l in d["labels"])')
image=$(find "$root/../shared/datasets/coco128/images/train2017" -name '*.jpg' 2>/dev/null | sort | head -n 1)
image_id=$(curl -sf -XPOST "$url/api/projects/$project_id/images" -H "$auth" -F "f=@$image" | json 'd["files"][0]["image"]["id"]')
if [ -n "${METRICS_SCRAPE:-}" ]; then
  metrics_token=$(cli tokens create --user bench --scope metrics --data "$data" 2>/dev/null | grep '^vlpat_')
  (while sleep "$METRICS_SCRAPE"; do curl -sf "$url/metrics" -H "Authorization: Bearer $metrics_token" -o /dev/null || echo "scrape failed" >&2; done) &
  scraper=$!
  trap 'kill $scraper 2>/dev/null; kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
fi
cpu() { awk '{print $14+$15}' "/proc/$server/stat"; }  # user+system clock ticks of the server so far
cpu_before=$(cpu)
node "$here/load.mjs" --url "$url" --token "$token" --image "$image_id" --labels "$labels" "$@"
echo "server cpu seconds during the load: $(( ($(cpu) - cpu_before) / $(getconf CLK_TCK) )).$(( ( ($(cpu) - cpu_before) % $(getconf CLK_TCK) ) * 100 / $(getconf CLK_TCK) ))" >&2
