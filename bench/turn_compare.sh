#!/usr/bin/env bash
# Side-by-side TURN benchmark: coturn (the anchor) and `webims turn`, one after the other in one
# run, same machine, same load generators (stun_alloc, turnutils_uclient/peer), same thread count,
# loopback only. Prints each figure for both and the ratio webims/coturn.
#
# The load generators share the 2 cores with the server, so raw rates say little; what is compared
# is server CPU per unit of work (from /proc/PID/stat), RSS per allocation and loss.
#
# usage: bench/turn_compare.sh [--reps 3] [--clients 40] [--threads 2] [--binary build/webims] [--out DIR]
#   --clients: uclient clients (x 1000 msg/s offered, 2 relayed packets per message); pick a load
#              where coturn is lossless on the machine (40 on the 2-vCPU reference VM).
# needs: coturn (turnserver, turnutils_*), g++, libssl-dev, bc, iproute2, /usr/bin/python3
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=3; CLIENTS=40; THREADS=2; BIN=$HERE/../build/webims; OUT=/tmp/turn_compare.$$
while [ $# -gt 0 ]; do case "$1" in
  --reps) REPS=$2; shift 2;; --clients) CLIENTS=$2; shift 2;; --threads) THREADS=$2; shift 2;;
  --binary) BIN=$(readlink -f "$2"); shift 2;; --out) OUT=$2; shift 2;;
  -h|--help) sed -n '2,13p' "$0"; exit 0;;
  *) echo "unknown argument $1" >&2; exit 2;; esac; done
[ -x "$BIN" ] || { echo "no webims binary at $BIN (build first)" >&2; exit 2; }
command -v turnserver >/dev/null || { echo "coturn is not installed (scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$OUT"
echo "# turn_compare: reps=$REPS clients=$CLIENTS threads=$THREADS $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# coturn: $(dpkg-query -W -f='${Version}' coturn 2>/dev/null)  webims: $("$BIN" --version)"
for server in coturn webims; do
  if [ $server = coturn ]; then cmd="$HERE/turn/coturn_server.sh 34780 SECRET $THREADS"
  else cmd="$HERE/turn/webims_turn_server.sh 34780 SECRET $THREADS $BIN"; fi
  echo "# running $server ..." >&2
  bash "$HERE/turn/turn_bench.sh" --server-cmd "$cmd" --reps "$REPS" --clients "$CLIENTS" --out "$OUT/$server" \
    > "$OUT/$server.txt" 2>&1
done
/usr/bin/python3 - "$OUT/coturn.txt" "$OUT/webims.txt" <<'PY'
import re, statistics, sys
def load(path):
    reps = {}
    for line in open(path):
        m = re.match(r"rep=(\d+) (\S+)=(\S+)", line)
        if m:
            try: reps.setdefault(int(m.group(1)), {})[m.group(2)] = float(m.group(3))
            except ValueError: pass
    return reps
def series(reps, fn):
    out = []
    for r in reps.values():
        try:
            v = fn(r)
            if v is not None: out.append(v)
        except (KeyError, ZeroDivisionError):
            pass
    return out
figures = [
    ("server CPU per allocation (us, incl. 401 round trip)", lambda r: r["alloc_server_cpu_pct"] / 100 * 1e6 / r["allocs_per_s"], 2/3),
    ("RSS per allocation at 1000 (kB)", lambda r: r["rss_per_alloc_at_1000_kb"], 1/2),
    ("RSS per allocation at 5000 (kB)", lambda r: r["rss_per_alloc_at_5000_kb"], 1/2),
    ("allocations per second", lambda r: r["allocs_per_s"], None),
    ("server CPU per relayed packet, 100 B (us)", lambda r: r["p100_server_cpu_us_per_relayed_pkt"], 2/3),
    ("server CPU per relayed packet, 1000 B (us)", lambda r: r["p1000_server_cpu_us_per_relayed_pkt"], 2/3),
    ("relayed packets per second, 100 B", lambda r: r["p100_server_relayed_pkts_per_s"], None),
    ("relayed packets per second, 1000 B", lambda r: r["p1000_server_relayed_pkts_per_s"], None),
    ("loss %, 100 B", lambda r: r["p100_loss_pct"], "loss"),
    ("loss %, 1000 B", lambda r: r["p1000_loss_pct"], "loss"),
]
c, w = load(sys.argv[1]), load(sys.argv[2])
print(f"{'figure':52s} {'coturn':>10s} {'webims':>10s} {'ratio':>7s}  target")
for name, fn, target in figures:
    cs, ws = series(c, fn), series(w, fn)
    if not cs or not ws:
        print(f"{name:52s} {'n/a':>10s} {'n/a':>10s}"); continue
    cm, wm = statistics.median(cs), statistics.median(ws)
    ratio = wm / cm if cm else float("nan")
    if target == "loss":
        verdict = "ok (0 % where coturn is lossless)" if wm == 0 or cm > 0 else "MISSED"
        tgt = "0 when coturn 0"
    elif target:
        verdict = "ok" if ratio <= target else "MISSED"
        tgt = f"<= {target:.2f}"
    else:
        verdict, tgt = "", "(whole-box rate, for reference)"
    print(f"{name:52s} {cm:10.2f} {wm:10.2f} {ratio:7.2f}  {tgt} {verdict}")
    print(f"{'':52s} {'['+' '.join(f'{x:.4g}' for x in cs)+']':>10s} {'['+' '.join(f'{x:.4g}' for x in ws)+']'}")
PY
echo "# raw results: $OUT/coturn.txt $OUT/webims.txt"
