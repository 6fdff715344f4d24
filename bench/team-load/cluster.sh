#!/usr/bin/env bash
# Work-distribution load across several server processes: a throwaway PostgreSQL and Redis, N servers (default 2) sharing
# them and one blob folder, nginx in front (round-robin, no stickiness), then team.mjs through nginx.
#   bench/team-load/cluster.sh [--servers 2] [team.mjs options: --annotators 500 --reviewers 20 --ops-per-image 30 --rate 1 --seconds 60]
# SERVER_DLL=path/VisionLabel.Server.dll runs that build; by default this checkout's Release build
# (dotnet build src/VisionLabel.Server -c Release), else the one ./visionlabel builds into .artifacts.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
servers=2
if [ "${1:-}" = --servers ]; then servers=$2; shift 2; fi
work="$(mktemp -d /tmp/visionlabel-teamcluster.XXXXXX)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${pg_bin:-}" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${KEEP_LOGS:-}" ] && mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$KEEP_LOGS"/ 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
[ -d "$here/node_modules/@microsoft/signalr" ] || (cd "$here" && npm install --no-audit --no-fund >/dev/null)
dll="${SERVER_DLL:-$root/src/VisionLabel.Server/bin/Release/net10.0/VisionLabel.Server.dll}"
if [ ! -f "$dll" ]; then "$root/visionlabel" --help >/dev/null; dll="$root/.artifacts/server/VisionLabel.Server.dll"; fi

# PostgreSQL (fsync off: a benchmark, not a store) and Redis, on free ports.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_port=$(free_port)
chown postgres "$work" 2>/dev/null || true; chmod 755 "$work"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -A trust --no-sync -U postgres >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg.log" start \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" >/dev/null
runuser -u postgres -- psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE visionlabel" >/dev/null
pg_pid=$(head -n 1 "$work/pg/postmaster.pid")
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=($redis_pid)

# Every simulated person signs in once to make their token: lift the per-address sign-in limit (10/min) for the set-up.
settings=(--VisionLabel:Database:Provider=postgres "--VisionLabel:Database:ConnectionString=Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=visionlabel;Maximum Pool Size=150"
  "--VisionLabel:Storage:LocalPath=$work/blobs" "--VisionLabel:Redis:Configuration=127.0.0.1:$redis_port" --Logging:LogLevel:Default=Warning
  --VisionLabel:Accounts:SignInAttemptsPerMinute=10000)
upstreams=""
cpu=""
for i in $(seq 1 "$servers"); do
  port=$(free_port)
  mkdir -p "$work/server$i"
  dotnet "$dll" serve --urls "http://127.0.0.1:$port" --data "$work/server$i" "${settings[@]}" >"$work/server$i.log" 2>&1 &
  pids+=($!)
  cpu+="server$i=$!,"
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
  upstreams+="server 127.0.0.1:$port;"
done

proxy_port=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/f; uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; } # '': plain requests keep the upstream connection
  upstream visionlabel { $upstreams keepalive 64; }
  server {
    listen $proxy_port;
    client_max_body_size 64m;
    location / {
      proxy_pass http://visionlabel; proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection \$connection_upgrade; proxy_set_header Host \$http_host;
      proxy_read_timeout 1h; proxy_buffering off; proxy_request_buffering off;
    }
  }
}
CONF
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
pids+=($nginx_pid)
url="http://127.0.0.1:$proxy_port"
for _ in $(seq 1 50); do curl -sf "$url/health" >/dev/null && break; sleep 0.2; done

echo "bench-password-long-enough" | dotnet "$dll" users add bench --admin --password-stdin --data "$work/server1" "${settings[@]}" >/dev/null
token=$(dotnet "$dll" tokens create --user bench --scope write --data "$work/server1" "${settings[@]}" | grep '^vlpat_')
node "$here/team.mjs" --url "$url" --token "$token" --cpu "${cpu}postgres=$pg_pid+,redis=$redis_pid,nginx=$nginx_pid+" "$@"
