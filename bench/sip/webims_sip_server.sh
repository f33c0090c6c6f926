#!/usr/bin/env bash
# Runs `webims core` and `webims pcscf` (two processes, two SIP hops) in the FOREGROUND for the
# SIP-over-WebSocket REGISTER benchmark, configured like ../sip/sipws_server.sh's Kamailio: loopback,
# WS on WS_PORT and/or WSS on TLS_PORT, Digest MD5 qop=auth for users u00000... with password
# "secret" in domain example.org. This script's PID and its two children are what gets measured.
# usage: webims_sip_server.sh [ws_port=5080] [tls_port=0 (off) | PORT] [users=1000] [binary=build/webims]
# PROVISION_ONLY=1 in the environment: provision the users and exit.
# WEBIMS_ALL=1: one process instead, `webims all` (core, eP-CSCF and an idle TURN server on
# ws_port+4), the eP-CSCF handing SIP to the core in memory ([pcscf] core_in_process).
set -euo pipefail
WSPORT=${1:-5080}; TLSPORT=${2:-0}; USERS=${3:-1000}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${4:-$HERE/../../build/webims}
DIR=/tmp/webims-sip-bench.$WSPORT
mkdir -p "$DIR"
ulimit -n "$(ulimit -Hn)"
listen="\"ws://127.0.0.1:$WSPORT\""
[ "$TLSPORT" != 0 ] && listen="$listen, \"wss://127.0.0.1:$TLSPORT\""
cat > "$DIR/webims.toml" <<TOML
[log]
level = "warn"
[store]
url = "sqlite://$DIR/webims.db"
[tls]
dir = "$DIR/tls"
[core]
listen = ["tcp://127.0.0.1:$((WSPORT + 2))"]
home_domain = "example.org"
control_listen = ""
[pcscf]
listen = [$listen]
allowed_origins = ["http://127.0.0.1"]
sip_listen = ["tcp://127.0.0.1:$((WSPORT + 3))"]
next_hop = "sip:127.0.0.1:$((WSPORT + 2));transport=tcp"
core_in_process = ${CORE_IN_PROCESS:-true}
control_listen = ""
[turn]
listen = ["udp://127.0.0.1:$((WSPORT + 4))"]
relay_address = "127.0.0.1"
relay_ports = "$((WSPORT + 10000))-$((WSPORT + 10100))"
threads = 1
control_listen = ""
TOML
# Subscribers once: the generator registers u00000..u<conns-1> with password "secret".
if [ ! -e "$DIR/provisioned.$USERS" ]; then
  for i in $(seq 0 $((USERS - 1))); do
    u=$(printf 'u%05d' "$i")
    echo "subscriber add --impi $u --impu sip:$u@example.org --password secret"
  done > "$DIR/provision.txt"
  while read -r line; do
    # shellcheck disable=SC2086
    "$BIN" admin --config "$DIR/webims.toml" $line > /dev/null
  done < "$DIR/provision.txt"
  touch "$DIR/provisioned.$USERS"
fi
[ "${PROVISION_ONLY:-0}" = 1 ] && exit 0
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' TERM INT EXIT
if [ "${WEBIMS_ALL:-0}" = 1 ]; then
  "$BIN" all --config "$DIR/webims.toml" > "$DIR/all.log" & pids+=($!)
  wait
  exit 0
fi
"$BIN" core --config "$DIR/webims.toml" & pids+=($!)
for i in $(seq 1 50); do ss -ltn | grep -q "127.0.0.1:$((WSPORT + 2)) " && break; sleep 0.1; done
"$BIN" pcscf --config "$DIR/webims.toml" & pids+=($!)
wait
