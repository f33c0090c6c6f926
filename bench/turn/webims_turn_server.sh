#!/usr/bin/env bash
# Runs `webims turn` in the FOREGROUND on loopback configured like ../shared/bench/coturn_server.sh
# (same port, relay range, REST-API secret, loopback peers allowed, thread count), for side-by-side runs.
# Usage: webims_turn_server.sh [port=34780] [secret=SECRET] [threads=2] [binary=build/webims]
set -euo pipefail
PORT=${1:-34780}; SECRET=${2:-SECRET}; THREADS=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${4:-$HERE/../../build/webims}
DIR=$(mktemp -d /tmp/webims-bench.XXXXXX)
ulimit -n "$(ulimit -Hn)"
cat > "$DIR/turn.toml" <<TOML
[log]
level = "warn"          # like coturn without -v: no line per allocation
[store]
url = "sqlite://$DIR/webims.db"
[turn]
listen = ["udp://127.0.0.1:$PORT"]
realm = "example.org"
relay_address = "127.0.0.1"
relay_ports = "20000-31999"   # outside the kernel's ephemeral range, as for coturn
allowed_peer_ranges = ["127.0.0.0/8"]
threads = $THREADS
user_quota = 0                # every benchmark allocation uses the same user name
unauth_rate = 0               # one source address makes thousands of allocations per second
control_listen = ""
[[turn.secrets]]
id = "bench"
secret = "$SECRET"
TOML
exec "$BIN" turn --config "$DIR/turn.toml"
