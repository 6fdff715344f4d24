#!/usr/bin/env bash
# The cost of telemetry (issue 27, docs/benchmarks.md "Session 13"): the same build with OpenTelemetry on (scraped every
# 5 s with a metrics token, as a monitored server is) and off, alternating rounds in one sitting, on live editing at 50
# editors (collab-load) and on a pre-labeling job (the job bench).
#   bench/telemetry-overhead.sh [collab rounds=4] [job rounds=3]
# Builds the server and the bench into a temp folder first, so a rebuild of this checkout meanwhile cannot touch them.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
collab_rounds="${1:-4}"; job_rounds="${2:-3}"
work="$(mktemp -d /tmp/visionlabel-telemetry.XXXXXX)"
trap 'rm -rf "$work"' EXIT
dotnet build "$root/bench/VisionLabel.Bench" -c Release -o "$work/bench" -nologo -v q -clp:ErrorsOnly >&2 || exit 1
echo "# $(date -u) load: $(cat /proc/loadavg)"
for round in $(seq 1 "$collab_rounds"); do
  for which in on off; do
    if [ "$which" = on ]; then env=(VisionLabel__Telemetry__Enabled=true METRICS_SCRAPE=5); else env=(VisionLabel__Telemetry__Enabled=false); fi
    out=$(env "${env[@]}" SERVER_DLL="$work/bench/VisionLabel.Server.dll" "$root/bench/collab-load/run.sh" \
      --editors 50 --watchers 10 --rate 5 --seconds 20 2>"$work/err") || { echo "collab round $round $which FAILED"; continue; }
    echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print('collab round $round $which', 'ack p50/p99', d['ackMs']['p50'], d['ackMs']['p99'], 'ops/s', d['opsPerSecond'], 'lost', d['lostOps'], 'dup', d['duplicatedOps'])"
    grep "server cpu" "$work/err"
  done
done
for round in $(seq 1 "$job_rounds"); do
  for which in on off; do
    echo "jobs round $round $which"
    [ "$which" = on ] && v=true || v=false
    VisionLabel__Telemetry__Enabled=$v dotnet "$work/bench/VisionLabel.Bench.dll" jobs --sizes 512 --seconds 6 --settle 10 2>/dev/null | grep '^|'
  done
done
