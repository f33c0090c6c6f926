#!/usr/bin/env bash
# Side-by-side SIP-over-WebSocket REGISTER benchmark: Kamailio (the anchor: one registrar process
# group, usrloc in memory, Digest MD5) and webims (`webims pcscf` + `webims core`: two processes,
# two SIP hops, the HSS and the location service in SQLite), one after the other in one run, same
# load generator (bench/sip/sipws_bench.cpp), loopback, Digest MD5 qop=auth, over WS and WSS.
# Prints server CPU per registration for both and the ratio webims/Kamailio; webims is measured as
# two processes (`webims core` + `webims pcscf`, SIP between them over loopback TCP) and as one
# (`webims all`: the same two hops, the eP-CSCF handing SIP to the core in memory).
#
# With --memory it then measures webims alone: N WICs (`webims wic load --idle`, a REGISTER with
# Digest each, then held with their refreshes) over WSS, RSS of pcscf+core sampled every 5 s:
# kB per registered idle WSS connection, and whether memory stays flat while they are held.
#
# usage: bench/sip_compare.sh [--reps 3] [--conns 100] [--seconds 10] [--binary build/webims]
#                             [--memory | --memory-only] [--wics 10000] [--hold 60] [--out DIR]
#                             [--mem-port 5090] (base port of the memory run: WS, WSS, core, pcscf SIP)
# needs: kamailio + websocket/tls modules (scripts/setup.sh installs them), g++, libssl-dev, python3
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=3; CONNS=100; SECS=10; BIN=$HERE/../build/webims; OUT=/tmp/sip_compare.$$; MEMORY=0; WICS=10000; HOLD=60; MP=5090
while [ $# -gt 0 ]; do case "$1" in
  --reps) REPS=$2; shift 2;; --conns) CONNS=$2; shift 2;; --seconds) SECS=$2; shift 2;;
  --binary) BIN=$(readlink -f "$2"); shift 2;; --out) OUT=$2; shift 2;; --memory) MEMORY=1; shift;; --memory-only) MEMORY=2; shift;;
  --wics) WICS=$2; shift 2;; --hold) HOLD=$2; shift 2;; --mem-port) MP=$2; shift 2;;
  -h|--help) sed -n '2,15p' "$0"; exit 0;;
  *) echo "unknown argument $1" >&2; exit 2;; esac; done
[ -x "$BIN" ] || { echo "no webims binary at $BIN (build first)" >&2; exit 2; }
command -v kamailio >/dev/null || { echo "kamailio is not installed (scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$OUT"
echo "# sip_compare: reps=$REPS conns=$CONNS seconds=$SECS $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# kamailio: $(dpkg-query -W -f='${Version}' kamailio 2>/dev/null) (2 TCP workers)  webims: $("$BIN" --version)"
# Ports: Kamailio 5080 (ws) / 5081 (wss); webims 5090 (ws) / 5091 (wss), core 5092, pcscf SIP 5093.
run() {  # name target tls server-cmd
  local name=$1 target=$2 tls=$3 cmd=$4
  echo "# running $name ..." >&2
  bash "$HERE/sip/sipws_bench.sh" --target "$target" $tls --server-cmd "$cmd" --conns "$CONNS" --max-s "$SECS" \
    --reps "$REPS" --pass secret --out "$OUT/$name" > "$OUT/$name.txt" 2>&1
}
if [ "$MEMORY" != 2 ]; then
# Provision the webims users once before timing anything.
PROVISION_ONLY=1 bash "$HERE/sip/webims_sip_server.sh" 5090 5091 "$CONNS" "$BIN" > "$OUT/provision.log" 2>&1
run kamailio_ws 127.0.0.1:5080 "" "$HERE/sip/sipws_server.sh 5080 1 0 2"
run webims_ws 127.0.0.1:5090 "" "$HERE/sip/webims_sip_server.sh 5090 0 $CONNS $BIN"
run webims_all_ws 127.0.0.1:5090 "" "env WEBIMS_ALL=1 $HERE/sip/webims_sip_server.sh 5090 0 $CONNS $BIN"
run kamailio_wss 127.0.0.1:5081 --tls "$HERE/sip/sipws_server.sh 5080 1 5081 2"
run webims_wss 127.0.0.1:5091 --tls "$HERE/sip/webims_sip_server.sh 5090 5091 $CONNS $BIN"
run webims_all_wss 127.0.0.1:5091 --tls "env WEBIMS_ALL=1 $HERE/sip/webims_sip_server.sh 5090 5091 $CONNS $BIN"
python3 - "$OUT" <<'PY'
import re, statistics, sys, os
out = sys.argv[1]
def load(name):
    reps = {}
    p = os.path.join(out, name + ".txt")
    if not os.path.exists(p): return {}
    for line in open(p):
        m = re.match(r"rep=(\d+) (\S+)=(\S+)", line)
        if m:
            try: reps.setdefault(int(m.group(1)), {})[m.group(2)] = float(m.group(3))
            except ValueError: pass
    return reps
def failed(reps):  # a repetition in which the server stopped serving (crashed, lost every connection)
    return sum(1 for r in reps.values() if r.get("registrations_ok", 0) == 0)
def med(reps, key):
    v = [r[key] for r in reps.values() if key in r and r.get("registrations_ok", 0) > 0]
    return (statistics.median(v), min(v), max(v)) if v else (float("nan"),) * 3
print(f"{'figure (median [min-max] of reps)':40} {'kamailio':>20} {'webims 2 processes':>20} {'ratio':>6} {'webims all':>20} {'ratio':>6}")
for t in ("ws", "wss"):
    k, w, a = load("kamailio_" + t), load("webims_" + t), load("webims_all_" + t)
    for key, label in (("server_cpu_us_per_registration", "server CPU per registration (us)"),
                       ("registrations_per_s", "registrations/s"),
                       ("reg_latency_p50_ms", "registration latency p50 (ms)"),
                       ("errors", "errors (non-2xx finals)"),
                       ("connections_lost", "connections lost")):
        x, y, z = med(k, key), med(w, key), med(a, key)
        fmt = lambda v: f"{v[0]:.1f} [{v[1]:.1f}-{v[2]:.1f}]"
        r = lambda v: v[0] / x[0] if x[0] else float("nan")
        print(f"{t + ' ' + label:40} {fmt(x):>20} {fmt(y):>20} {r(y):>6.2f} {fmt(z):>20} {r(z):>6.2f}")
    print(f"{t + ' repetitions that failed (excl. above)':40} {failed(k):>20} {failed(w):>20} {'':>6} {failed(a):>20}")
PY
fi

[ "$MEMORY" = 0 ] && exit 0
echo
echo "# memory: $WICS registered WICs over WSS held $HOLD s (webims wic load --idle)"
DIR=/tmp/webims-sip-bench.$MP
for p in $MP $((MP + 1)) $((MP + 2)) $((MP + 3)); do
  if ss -ltn | grep -q "127.0.0.1:$p "; then echo "port $p is in use: stop what runs there first (or --mem-port)" >&2; exit 1; fi
done
PROVISION_ONLY=1 bash "$HERE/sip/webims_sip_server.sh" "$MP" "$((MP + 1))" "$WICS" "$BIN" > "$OUT/memory-provision.log" 2>&1
setsid bash "$HERE/sip/webims_sip_server.sh" "$MP" "$((MP + 1))" "$WICS" "$BIN" > "$OUT/memory-server.log" 2>&1 &
srv=$!
for i in $(seq 1 2400); do ss -ltn | grep -q "127.0.0.1:$((MP + 1)) " && break; sleep 0.5; done
sleep 1
core=$(pgrep -f "webims core --config $DIR/webims.toml"); pcscf=$(pgrep -f "webims pcscf --config $DIR/webims.toml")
[ -n "$core" ] && [ -n "$pcscf" ] || { echo "webims core/pcscf did not start: $OUT/memory-server.log" >&2; kill -TERM "$srv"; exit 1; }
kb() { awk '/^VmRSS:/{print $2}' /proc/"$1"/status 2>/dev/null || echo 0; }
rss() { echo $(( $(kb "$core") + $(kb "$pcscf") )); }
each() { echo "core=$(kb "$core") pcscf=$(kb "$pcscf")"; }
users=$OUT/users.txt
for i in $(seq 0 $((WICS - 1))); do printf 'sip:u%05d@example.org secret u%05d\n' "$i" "$i"; done > "$users"
rss0=$(rss); each0=$(each)
ulimit -n "$(ulimit -Hn)"
"$BIN" wic load --url "wss://127.0.0.1:$((MP + 1))" --origin http://127.0.0.1 --ca-file "$DIR/tls/ca.pem" --users "$users" \
  --concurrency "$WICS" --idle --duration "$HOLD" --timeout 60 > "$OUT/memory-load.txt" 2>&1 &
load=$!
samples=()
t=0
while kill -0 $load 2>/dev/null; do
  sleep 5; t=$((t + 5))
  samples+=("$t $(rss)")
  last_each=$(each)
done
wait $load
kill -TERM "$srv" 2>/dev/null; wait "$srv" 2>/dev/null
cat "$OUT/memory-load.txt"
echo "rss_kb_by_process_before: $each0"
echo "rss_kb_by_process_held: $last_each"
printf '%s\n' "${samples[@]}" > "$OUT/memory-samples.txt"
python3 - "$OUT/memory-samples.txt" "$rss0" "$WICS" "$HOLD" "$OUT/memory-load.txt" <<'PY'
import sys, re
samples = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
rss0, n, hold = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
load = dict(re.findall(r"(\w+)=(\S+)", open(sys.argv[5]).read()))
conns = int(load.get("connections", n))
# The hold is the last `hold` seconds of the run; use the samples in it.
# The hold is the last `hold` seconds of the run; its final 10 s are the WICs leaving (10,000
# closing handshakes at once), which is not idle memory: the figure is the last sample before them.
t_end = samples[-1][0] if samples else 0
held = [s for s in samples if t_end - hold + 5 <= s[0] <= t_end - 10] or samples
first, last = held[0][1], held[-1][1]
peak = max(s[1] for s in held)
closing = [s[1] for s in samples if s[0] > t_end - 10]
print(f"rss_pcscf_core_while_closing_max_kb={max(closing) if closing else 0}")
print(f"rss_pcscf_core_before_kb={rss0}")
print(f"rss_pcscf_core_held_first_kb={first} rss_pcscf_core_held_last_kb={last} rss_peak_kb={peak}")
print(f"registered_wics={conns} kb_per_registered_wss_connection={(last - rss0) / max(conns, 1):.2f}")
print(f"memory_growth_while_held_pct={(last - first) * 100.0 / max(first, 1):.2f} over {held[-1][0] - held[0][0]} s")
PY
