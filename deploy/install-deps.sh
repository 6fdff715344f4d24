#!/usr/bin/env bash
# Installs the system libraries VisionLabel needs, only those missing. Idempotent and quick when all is there.
#   deploy/install-deps.sh runtime   image codecs the server P/Invokes (libjpeg-turbo, libpng, libwebp)
#   deploy/install-deps.sh test      runtime + what the tests run against (PostgreSQL, chromium, Redis, nginx, python3 with pip)
# As root it installs with apt-get; otherwise it prints the command to run and fails.
set -euo pipefail
what="${1:-runtime}"

missing=()
libs="$(ldconfig -p 2>/dev/null || true)" # read once: grep -q on a pipe would SIGPIPE ldconfig under pipefail
have_lib() { [[ "$libs" == *"$1"* ]]; }
have_lib 'libturbojpeg.so.0 ' || missing+=(libturbojpeg0)
have_lib 'libpng16.so.16 ' || missing+=(libpng16-16)
have_lib 'libwebp.so.7 ' || missing+=(libwebp7)
if [ "$what" = test ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium) # browser tests (Microsoft.Playwright drives Debian's chromium)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server) # several server processes: the SignalR backplane
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light) # the load balancer in front of them
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3 python3-pip) # the Python client's tests (clients/python)
fi

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "VisionLabel needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
