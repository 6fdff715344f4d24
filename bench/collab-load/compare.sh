#!/usr/bin/env bash
# One sitting, three servers, the same workload, interleaved rounds:
#   floor  - bench/signalr-floor: SignalR ordering and broadcasting only (the floor on this machine)
#   before - the server at BASE (default: origin of this change, given as a git revision)
#   after  - this checkout
#   bench/collab-load/compare.sh BASE [rounds=3] [load.mjs args, e.g. --editors 50 --watchers 10 --rate 5 --seconds 20]
#   SERVERS="before after" limits the set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
base="${1:?give the base revision}"; shift
rounds="${1:-3}"; shift || true
work="$(mktemp -d /tmp/visionlabel-compare.XXXXXX)"
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "building floor, before ($base) and after..." >&2
dotnet build "$root/bench/signalr-floor" -c Release -o "$work/floor" -nologo -v q -clp:ErrorsOnly >&2
git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null 2>&1
dotnet build "$work/base/src/VisionLabel.Server/VisionLabel.Server.csproj" -c Release -o "$work/before" -nologo -v q -clp:ErrorsOnly >&2
dotnet build "$root/src/VisionLabel.Server/VisionLabel.Server.csproj" -c Release -o "$work/after" -nologo -v q -clp:ErrorsOnly >&2

for round in $(seq 1 "$rounds"); do
  for which in ${SERVERS:-floor before after}; do
    code=0
    case $which in
      floor) out=$(FLOOR_DLL="$work/floor/SignalRFloor.dll" "$here/run.sh" "$@") || code=$? ;;
      before) out=$(SERVER_DLL="$work/before/VisionLabel.Server.dll" "$here/run.sh" "$@") || code=$? ;;
      after) out=$(SERVER_DLL="$work/after/VisionLabel.Server.dll" "$here/run.sh" "$@") || code=$? ;;
    esac
    if [ "$code" -ne 0 ]; then echo "round $round $which FAILED (exit $code): $out"; continue; fi
    echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print('round $round $which', 'ack p50/p99', d['ackMs']['p50'], d['ackMs']['p99'], 'peer p50/p99', d['opToPeerMs']['p50'], d['opToPeerMs']['p99'], 'lost', d['lostOps'], 'dup', d['duplicatedOps'], 'loop p99', d['loadToolEventLoopDelayMs']['p99'])"
  done
done
