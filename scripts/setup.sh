#!/usr/bin/env bash
# Installs what webims needs to build, run, test and benchmark on Debian 12: Debian packages with
# apt-get, the browser-test driver with npm. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

pkgs=(
  # build
  build-essential cmake pkg-config git ca-certificates openssl
  libboost1.81-dev libssl-dev libsqlite3-dev libtomlplusplus-dev nlohmann-json3-dev libjemalloc-dev
  libcjose-dev libjansson-dev libsodium-dev
  libgtest-dev libgmock-dev
  # fuzz targets (libFuzzer comes with clang's runtime)
  clang libclang-rt-14-dev
  # real peers for interop tests, and the benchmark anchor
  coturn python3 python3-aioice chromium
  # certutil: the browser tests trust the local CA in an NSS database, as the console tells users to
  libnss3-tools
  # SIP over WebSocket peers: Kamailio as reference registrar and as IMS core stand-in (auth_db on SQLite)
  kamailio kamailio-websocket-modules kamailio-tls-modules kamailio-sqlite-modules sqlite3
  # scripts and benchmarks
  bc iproute2 procps curl
)
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# esbuild bundles the browser WIC (web/, with jssip) into web/dist. playwright-core drives Debian's
# chromium in the browser tests (it never downloads a browser). jssip and ws: the JsSIP WIC of the
# SIP-over-WebSocket tests.
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/jssip ] || [ ! -d node_modules/ws ] ||
   [ ! -d node_modules/esbuild ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: ok"
