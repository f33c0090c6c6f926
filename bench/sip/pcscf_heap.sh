#!/usr/bin/env bash
# What the eP-CSCF's memory per idle WSS connection is made of: runs `webims core` and, under
# heaptrack, `webims pcscf` (configured as bench/sip/webims_sip_server.sh does), registers N idle
# WICs over WSS, and while they are held ends the eP-CSCF with exit() from gdb, so every allocation
# still live is reported as "leaked" with its call stack. Prints the largest live allocation sites.
# usage: bench/sip/pcscf_heap.sh [wics=2000] [hold=40] [binary=build/webims] [ws_port=5190]
# needs: heaptrack, gdb (Debian packages)
set -euo pipefail
N=${1:-2000}; HOLD=${2:-40}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(readlink -f "${3:-$HERE/../../build/webims}"); PORT=${4:-5190}; TLS=$((PORT + 1))
command -v heaptrack >/dev/null && command -v gdb >/dev/null || { echo "needs heaptrack and gdb (apt-get install heaptrack gdb)" >&2; exit 2; }
[ "$HOLD" -ge 15 ] || { echo "hold at least 15 s (the storm must be over)" >&2; exit 2; }
D=/tmp/webims-sip-bench.$PORT; OUT=/tmp/pcscf_heap.$$; mkdir -p "$OUT"
PROVISION_ONLY=1 bash "$HERE/webims_sip_server.sh" "$PORT" "$TLS" "$N" "$BIN" > "$OUT/provision.log"
ulimit -n "$(ulimit -Hn)"
"$BIN" core --config "$D/webims.toml" > "$OUT/core.log" 2>&1 & core=$!
trap 'kill "$core" 2>/dev/null || true' EXIT
for i in $(seq 1 50); do ss -ltn | grep -q "127.0.0.1:$((PORT + 2)) " && break; sleep 0.1; done
heaptrack -o "$OUT/pcscf" "$BIN" pcscf --config "$D/webims.toml" > "$OUT/pcscf.log" 2>&1 & hp=$!
for i in $(seq 1 100); do ss -ltn | grep -q "127.0.0.1:$TLS " && break; sleep 0.2; done
pp=$(pgrep -f "^$BIN pcscf --config $D/webims.toml" | head -1)
for i in $(seq 0 $((N - 1))); do printf 'sip:u%05d@example.org secret u%05d\n' "$i" "$i"; done > "$OUT/users.txt"
"$BIN" wic load --url "wss://127.0.0.1:$TLS" --origin http://127.0.0.1 --ca-file "$D/tls/ca.pem" --users "$OUT/users.txt" \
  --concurrency "$N" --idle --duration "$HOLD" --timeout 60 > "$OUT/load.txt" 2>&1 & load=$!
sleep $((HOLD - 5))
echo "eP-CSCF RSS with $N WICs held: $(awk '/^VmRSS:/{print $2}' /proc/"$pp"/status) kB"
gdb -p "$pp" -batch -ex "call (void)exit(0)" > /dev/null 2>&1 || true
wait "$hp" || true
wait "$load" || true
grep -E "^(connections|failures)=" "$OUT/load.txt"
heaptrack_print -f "$OUT"/pcscf*.zst --print-peaks 0 --print-allocators 0 --print-temporary 0 --print-leaks 1 \
  --peak-limit 25 2>/dev/null > "$OUT/leaks.txt" || true
grep -E "^total memory leaked" "$OUT/leaks.txt" | sed "s/leaked/live/"
echo "largest live allocation sites (bytes over calls; divide by $N for per connection):"
grep -E "^[0-9.]+[KMG]? leaked over [0-9]+ calls from" -A1 "$OUT/leaks.txt" | grep -v "^--" | paste - - | \
  sed -E 's/ leaked over ([0-9]+) calls from\s*/ x\1  /' | head -25
echo "full report: $OUT/leaks.txt"
