#!/usr/bin/env bash
# Call set-up time of the browser WIC (issue 5) against the anchor, JsSIP's default ICE gathering:
# the WIC as shipped (web/src/ice_rule.js sends the SDP at the first relay candidate) and the same
# page with ?ice=wait (JsSIP waits for the browser's gathering to complete, as stock JsSIP and
# sipML5 do), alternating call by call in one run, relay-only and with all candidates, for two sets
# of TURN URIs: `webims all`'s own (UDP, TCP, TLS) and the same plus one that never answers.
# Two `webims all` (one per TURN set), each started once on free loopback ports; two Chromium
# pages per gate in each (alice by IMS Digest calls a guest from the pool, who answers at once).
# Prints a markdown table: dial -> connected, median [min-max] per case, ratio early/anchor.
# Timing is reported, never asserted; not part of ctest or scripts/test.sh: run it by hand.
# Details of the method: bench/wic/setup_bench.mjs.
#
# usage: bench/wic_setup_compare.sh [--calls 10] [--binary build/webims] [--out DIR]
#                                   [--dead drop|closed] [--configs default,dead] [--candidates relay,all]
# needs: a release build and web/dist (bash scripts/build.sh), npm ci, Debian's chromium and certutil
# (scripts/setup.sh). About 2 minutes per round of 8 calls, most of it the anchor's calls against the
# TURN URI that never answers (Chromium gives up on it after about 40 s).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BIN=$REPO/build/webims; OUT=/tmp/wic_setup_compare.$$; PASS=()
while [ $# -gt 0 ]; do case "$1" in
  --binary) BIN=$(readlink -f "$2"); shift 2;;
  --out) OUT=$2; shift 2;;
  --calls|--dead|--configs|--candidates|--max-minutes) PASS+=("$1" "$2"); shift 2;;
  -h|--help) sed -n '2,19p' "$0"; exit 0;;
  *) echo "unknown argument $1" >&2; exit 2;; esac; done
[ -x "$BIN" ] || { echo "no webims binary at $BIN (bash scripts/build.sh)" >&2; exit 2; }
[ -f "$REPO/web/dist/index.html" ] || { echo "no web/dist (bash scripts/build.sh builds it)" >&2; exit 2; }
[ -d "$REPO/node_modules/playwright-core" ] || { echo "no node_modules (npm ci --no-audit --no-fund)" >&2; exit 2; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "no Chromium at $CHROMIUM (scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$OUT"
echo "# wic_setup_compare: $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# webims: $("$BIN" --version)  chromium: $("$CHROMIUM" --version 2>/dev/null | head -1)  jssip: $(node -p "require('$REPO/node_modules/jssip/package.json').version")"
node "$HERE/wic/setup_bench.mjs" --binary "$BIN" --out "$OUT" "${PASS[@]}" 2> >(tee "$OUT/progress.log" >&2) | tee "$OUT/table.md"
rc=${PIPESTATUS[0]}
echo "# progress and every call's details: $OUT/progress.log, $OUT/calls.json"
exit "$rc"
