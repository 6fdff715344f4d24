#!/usr/bin/env bash
# Work-distribution load on the embedded default: one server process, SQLite, a temp data folder; then team.mjs.
#   bench/team-load/run.sh [--annotators 500] [--reviewers 20] [--ops-per-image 30] [--rate 1] [--seconds 60] [team.mjs options]
# SERVER_DLL=path/VisionLabel.Server.dll runs that build; by default this checkout's Release build
# (dotnet build src/VisionLabel.Server -c Release), else ./visionlabel (which builds into .artifacts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="$(mktemp -d /tmp/visionlabel-team.XXXXXX)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
[ -d "$here/node_modules/@microsoft/signalr" ] || (cd "$here" && npm install --no-audit --no-fund >/dev/null)
dll="${SERVER_DLL:-$root/src/VisionLabel.Server/bin/Release/net10.0/VisionLabel.Server.dll}"
if [ -f "$dll" ]; then server_cmd=(dotnet "$dll"); else server_cmd=("$root/visionlabel"); fi
# Every simulated person signs in once to make their token: lift the per-address sign-in limit (10/min) for the set-up.
"${server_cmd[@]}" serve --urls "$url" --data "$data" --Logging:LogLevel:Default=Warning \
  --VisionLabel:Accounts:SignInAttemptsPerMinute=10000 >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; [ -n "${KEEP_LOG:-}" ] && cp "$data/server.log" "$KEEP_LOG"; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do curl -sf "$url/health" >/dev/null && break; sleep 0.5; done
# The instance admin and its write token, made by the CLI on the server's data directory (as a headless set-up does).
echo "bench-password-long-enough" | "${server_cmd[@]}" users add bench --admin --password-stdin --data "$data" >/dev/null
token=$("${server_cmd[@]}" tokens create --user bench --scope write --data "$data" | grep '^vlpat_')
node "$here/team.mjs" --url "$url" --token "$token" --cpu "server=$server" "$@"
