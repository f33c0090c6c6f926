#!/usr/bin/env bash
# Method and tools taken unchanged from the anchor measurements of coturn (team bench kit), so
# webims and coturn are measured the same way; only the path of stun_alloc.cpp differs.
# turn_bench.sh - TURN server benchmark (allocation rate, relay throughput, loss, CPU, RSS).
# Works against any RFC 5766/8656 server that supports TURN REST API credentials
# (use-auth-secret). All traffic is loopback; every load step is bounded in count and time.
#
# Usage:
#   turn_bench.sh --server-cmd "CMD" [options]   # CMD runs the server in the FOREGROUND; it is
#                                                # (re)started fresh for every measurement and
#                                                # stopped again by its PID (CPU/RSS measured).
#   turn_bench.sh --target HOST:PORT [--pid PID] # already running server (CPU/RSS only with --pid)
# Options:
#   --secret S         TURN REST API shared secret (default SECRET)
#   --reps N           repetitions per figure (default 3)
#   --peer-port P      UDP port for the local turnutils_peer echo peer (default 34800)
#   --alloc-n N        allocations for the rate/RSS test (default 5000); RSS also at 1000
#   --alloc-conc C     allocations in flight (default 50)
#   --clients M        uclient clients for throughput (default 20)
#   --interval MS      per-client packet interval in ms (default 1 => M*1000 msg/s offered)
#   --msgs N           messages per client (default 15000; needs MSGS*INTERVAL >= 12000 ms for a steady window)
#   --sizes "100 1000" payload sizes
#   --out DIR          work/log dir (default /tmp/turn_bench.$$)
#   --only alloc|thr   run only the allocation/RSS part or only the throughput part
# Note: with --target (no restarts) allocations of one sub-test stay alive during the next
# (no dealloc), so later tests may hit 437 on reused 5-tuples and rss_per_alloc is only
# meaningful with --server-cmd (fresh server per sub-test).
# Output: lines "figure=value" on stdout; per-repetition lines "rep=<i> ..." and
# final "median"/"min"/"max" lines. Needs: turnutils_uclient, turnutils_peer, g++, libssl-dev, python3.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER_CMD=""; TARGET=""; SPID=""; SECRET=SECRET; REPS=3; PEERPORT=34800; ALLOC_N=5000; ALLOC_C=50
CLIENTS=20; INTERVAL=1; MSGS=15000; SIZES="100 1000"; OUT=/tmp/turn_bench.$$; ONLY=all
while [ $# -gt 0 ]; do case "$1" in
  --server-cmd) SERVER_CMD=$2; shift 2;; --target) TARGET=$2; shift 2;; --pid) SPID=$2; shift 2;;
  --secret) SECRET=$2; shift 2;; --reps) REPS=$2; shift 2;; --peer-port) PEERPORT=$2; shift 2;;
  --alloc-n) ALLOC_N=$2; shift 2;; --alloc-conc) ALLOC_C=$2; shift 2;; --clients) CLIENTS=$2; shift 2;;
  --interval) INTERVAL=$2; shift 2;; --msgs) MSGS=$2; shift 2;; --sizes) SIZES=$2; shift 2;;
  --out) OUT=$2; shift 2;; --only) ONLY=$2; shift 2;; *) echo "unknown arg $1" >&2; exit 2;; esac; done
[ -z "$TARGET" ] && TARGET=127.0.0.1:34780
HOST=${TARGET%:*}; PORT=${TARGET##*:}
mkdir -p "$OUT"; RES=$OUT/results.txt; : > "$RES"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# build the allocation load generator
[ -x "$OUT/stun_alloc" ] || g++ -O2 -std=c++17 -o "$OUT/stun_alloc" "$HERE/stun_alloc.cpp" -lcrypto 2>/dev/null || { echo "build failed" >&2; exit 1; }

PEERPID=""
cleanup(){ [ -n "${SRVPID:-}" ] && stop_server; [ -n "$PEERPID" ] && kill "$PEERPID" 2>/dev/null; }
trap cleanup EXIT
start_server(){
  if [ -n "$SERVER_CMD" ]; then
    setsid bash -c "exec $SERVER_CMD" >"$OUT/server.out" 2>&1 </dev/null & SRVPID=$!
    for i in $(seq 1 50); do ss -lun 2>/dev/null | grep -q "$HOST:$PORT " && break; sleep 0.1; done
    sleep 0.3
  else SRVPID=$SPID; fi
}
stop_server(){
  if [ -n "$SERVER_CMD" ] && [ -n "${SRVPID:-}" ]; then
    kill "$SRVPID" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$SRVPID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SRVPID" 2>/dev/null; SRVPID=""
    # wait until the port is free again (SO_REUSEPORT would otherwise split traffic)
    for i in $(seq 1 50); do ss -lun 2>/dev/null | grep -q "$HOST:$PORT " || break; sleep 0.1; done
  fi
}
ticks(){ [ -n "$1" ] && [ -r /proc/$1/stat ] && awk '{print $14+$15}' /proc/$1/stat || echo 0; }
rss_kb(){ [ -n "$1" ] && [ -r /proc/$1/status ] && awk '/VmRSS/{print $2}' /proc/$1/status || echo 0; }
HZ=$(getconf CLK_TCK)
emit(){ echo "$*" | tee -a "$RES"; }

# echo peer
setsid turnutils_peer -L 127.0.0.1 -p "$PEERPORT" >"$OUT/peer.log" 2>&1 </dev/null & PEERPID=$!
sleep 0.3

for rep in $(seq 1 "$REPS"); do
  if [ "$ONLY" != thr ]; then
  # ---- (d) RSS at 1000 allocations (fresh server)
  start_server; idle=$(rss_kb "$SRVPID")
  timeout 60 "$OUT/stun_alloc" "$HOST" "$PORT" "$SECRET" 1000 "$ALLOC_C" 2 0 30 > "$OUT/alloc1k.$rep" &
  AP=$!; for i in $(seq 1 100); do grep -q holding "$OUT/alloc1k.$rep" 2>/dev/null && break; sleep 0.1; done; sleep 0.5
  r1k=$(rss_kb "$SRVPID"); wait $AP
  emit "rep=$rep rss_idle_kb=$idle"; emit "rep=$rep rss_1000_allocs_kb=$r1k"
  [ -n "$SRVPID" ] && emit "rep=$rep rss_per_alloc_at_1000_kb=$(echo "scale=2;($r1k-$idle)/1000" | bc)"
  stop_server
  # ---- (a) allocation rate + (d) RSS at ALLOC_N allocations (fresh server)
  start_server; idle=$(rss_kb "$SRVPID"); c0=$(ticks "$SRVPID")
  timeout 90 "$OUT/stun_alloc" "$HOST" "$PORT" "$SECRET" "$ALLOC_N" "$ALLOC_C" 2 0 60 > "$OUT/alloc.$rep" &
  AP=$!; for i in $(seq 1 600); do grep -q holding "$OUT/alloc.$rep" 2>/dev/null && break; sleep 0.05; done
  c1=$(ticks "$SRVPID"); sleep 0.5; rN=$(rss_kb "$SRVPID"); wait $AP
  el=$(awk -F= '/alloc_elapsed_s/{print $2}' "$OUT/alloc.$rep")
  for k in allocs_ok alloc_errors alloc_timeouts allocs_per_s alloc_latency_p50_ms alloc_latency_p99_ms client_cpu_pct; do
    emit "rep=$rep $k=$(awk -F= -v k=$k '$1==k{print $2}' "$OUT/alloc.$rep")"; done
  [ -n "$SRVPID" ] && emit "rep=$rep alloc_server_cpu_pct=$(echo "scale=1;100*($c1-$c0)/$HZ/$el" | bc)"
  emit "rep=$rep rss_${ALLOC_N}_allocs_kb=$rN"
  [ -n "$SRVPID" ] && emit "rep=$rep rss_per_alloc_at_${ALLOC_N}_kb=$(echo "scale=2;($rN-$idle)/$ALLOC_N" | bc)"
  stop_server
  fi
  [ "$ONLY" = alloc ] && continue
  # ---- (b,c) relay throughput with ChannelData, echo peer, per payload size (fresh server)
  for L in $SIZES; do
    start_server
    F=$OUT/thr.$L.$rep; S=$OUT/samp.$L.$rep; : > "$S"
    MAXT=$(( 40 + CLIENTS/5 + MSGS*INTERVAL/1000 ))
    timeout "$MAXT" turnutils_uclient -c -n "$MSGS" -z "$INTERVAL" -m "$CLIENTS" -l "$L" -W "$SECRET" -u bench \
        -e 127.0.0.1 -r "$PEERPORT" -p "$PORT" "$HOST" 2>&1 \
      | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done > "$F" &
    UCP=$!
    # sampler: server / peer / client cpu ticks, bounded by MAXT
    end=$(( $(date +%s) + MAXT ))
    while kill -0 $UCP 2>/dev/null && [ "$(date +%s)" -lt $end ]; do
      CP=$(pgrep -n -x turnutils_uclie -P "$(pgrep -n -x timeout -P $$ 2>/dev/null || echo 1)" 2>/dev/null || true)
      printf '%s %s %s %s %s\n' "$EPOCHREALTIME" "$(ticks "$SRVPID")" "$(ticks "$PEERPID")" "$(ticks "$CP")" "$(rss_kb "$SRVPID")" >> "$S"
      sleep 0.25
    done
    wait $UCP 2>/dev/null
    python3 "$HERE/turn_bench_analyze.py" "$F" "$S" "$L" "$HZ" "$CLIENTS" "$INTERVAL" "$MSGS" | while read -r kv; do emit "rep=$rep $kv"; done
    stop_server
  done
done
python3 - "$RES" <<'PY' | tee -a "$RES"
import sys,re,statistics as st,collections
d=collections.OrderedDict()
for line in open(sys.argv[1]):
    m=re.match(r'rep=\d+ (\S+)=(\S+)',line)
    if m:
        try: d.setdefault(m.group(1),[]).append(float(m.group(2)))
        except ValueError: pass
for k,v in d.items():
    print(f"{k} median={st.median(v):g} min={min(v):g} max={max(v):g} n={len(v)}")
PY
