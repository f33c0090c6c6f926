#!/usr/bin/env bash
# Method and tools taken unchanged from the anchor measurements of Kamailio (team bench kit), so
# webims and Kamailio are measured the same way; only the path of sipws_bench.cpp differs.
# sipws_bench.sh - SIP-over-WebSocket REGISTER benchmark driver.
#
# Usage:
#   sipws_bench.sh --target HOST:PORT [--path /] [--tls] [--user-prefix u] [--pass P]
#                  [--server-cmd "CMD"] [--pid PID] [--conns 100] [--max-s 10] [--regs 1000000]
#                  [--reps 3] [--out DIR]
#   --server-cmd: command that runs the server in the FOREGROUND (exec'd; restarted fresh
#                 for every repetition and stopped again by its PID). CPU and memory are
#                 measured for that PID and its direct children.
#   --pid:        already running server (CPU/memory of PID + direct children).
#   --pass:       enables digest auth (401 -> REGISTER with Authorization -> 200).
# Every run is bounded by --regs completed registrations and --max-s seconds (+ warm-up 1 s).
# Prints "rep=<i> key=value" lines and summary lines "key median=.. min=.. max=.. n=..".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TARGET=127.0.0.1:5080; WSPATH=/; TLS=""; PREFIX=u; PASS=""; SERVER_CMD=""; SPID=""; CONNS=100; MAXS=10; REGS=10000000; REPS=3; OUT=/tmp/sipws_bench.$$
while [ $# -gt 0 ]; do case "$1" in
  --target) TARGET=$2; shift 2;; --path) WSPATH=$2; shift 2;; --tls) TLS=--tls; shift;; --user-prefix) PREFIX=$2; shift 2;;
  --pass) PASS=$2; shift 2;; --server-cmd) SERVER_CMD=$2; shift 2;; --pid) SPID=$2; shift 2;; --conns) CONNS=$2; shift 2;;
  --max-s) MAXS=$2; shift 2;; --regs) REGS=$2; shift 2;; --reps) REPS=$2; shift 2;; --out) OUT=$2; shift 2;;
  *) echo "unknown arg $1" >&2; exit 2;; esac; done
HOST=${TARGET%:*}; PORT=${TARGET##*:}
mkdir -p "$OUT"; RES=$OUT/results.txt; : > "$RES"
[ -x "$OUT/sipws_bench" ] || g++ -O2 -std=c++17 -o "$OUT/sipws_bench" "$HERE/sipws_bench.cpp" -lssl -lcrypto 2>"$OUT/build.log" || { cat "$OUT/build.log" >&2; exit 1; }
SRVPID=""
start_server(){
  if [ -n "$SERVER_CMD" ]; then
    setsid bash -c "exec $SERVER_CMD" >"$OUT/server.out" 2>&1 </dev/null & SRVPID=$!
    for i in $(seq 1 100); do ss -ltn 2>/dev/null | grep -q "$HOST:$PORT " && break; sleep 0.1; done; sleep 0.5
  else SRVPID=$SPID; fi
}
stop_server(){
  if [ -n "$SERVER_CMD" ] && [ -n "$SRVPID" ]; then
    kill "$SRVPID" 2>/dev/null; for i in $(seq 1 50); do kill -0 "$SRVPID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SRVPID" 2>/dev/null; SRVPID=""
    for i in $(seq 1 100); do ss -ltn 2>/dev/null | grep -q "$HOST:$PORT " || break; sleep 0.1; done
  fi
}
trap stop_server EXIT
mem(){ # sum of RSS and PSS (kB) over PID and its direct children
  local p=$1 rss=0 pss=0 n=0; [ -z "$p" ] && { echo "0 0 0"; return; }
  for q in $p $(cat /proc/$p/task/$p/children 2>/dev/null); do
    [ -r /proc/$q/smaps_rollup ] || continue; n=$((n+1))
    rss=$((rss + $(awk '/^Rss:/{print $2}' /proc/$q/smaps_rollup))); pss=$((pss + $(awk '/^Pss:/{print $2}' /proc/$q/smaps_rollup)))
  done; echo "$rss $pss $n"; }
emit(){ echo "$*" | tee -a "$RES"; }
for rep in $(seq 1 "$REPS"); do
  start_server
  read -r r0 p0 n0 < <(mem "$SRVPID")
  timeout $(( MAXS + 30 )) "$OUT/sipws_bench" --host "$HOST" --port "$PORT" --path "$WSPATH" $TLS --conns "$CONNS" --regs "$REGS" \
      --max-s "$MAXS" --user-prefix "$PREFIX" ${PASS:+--pass "$PASS"} ${SRVPID:+--server-pid "$SRVPID"} > "$OUT/gen.$rep" 2>&1
  read -r r1 p1 n1 < <(mem "$SRVPID")
  while IFS= read -r kv; do case "$kv" in *=*) emit "rep=$rep $kv";; esac; done < "$OUT/gen.$rep"
  if [ -n "$SRVPID" ]; then
    emit "rep=$rep server_procs=$n1"
    emit "rep=$rep server_rss_sum_idle_kb=$r0"; emit "rep=$rep server_pss_sum_idle_kb=$p0"
    emit "rep=$rep server_rss_sum_after_kb=$r1"; emit "rep=$rep server_pss_sum_after_kb=$p1"
  fi
  stop_server
done
python3 - "$RES" <<'PY' | tee -a "$RES"
import sys,re,statistics as st,collections
d=collections.OrderedDict()
for line in open(sys.argv[1]):
    m=re.match(r'rep=\d+ (\S+)=(\S+)',line)
    if m:
        try: d.setdefault(m.group(1),[]).append(float(m.group(2)))
        except ValueError: pass
for k,v in d.items(): print(f"{k} median={st.median(v):g} min={min(v):g} max={max(v):g} n={len(v)}")
PY
