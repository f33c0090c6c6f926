#!/usr/bin/env bash
# Token validation rate beside the raw OpenSSL rate on this machine, as ratios (issue 4):
#   ES256 JWT at the eP-CSCF  (token::verify_ims_token)          vs  EVP_DigestVerify ECDSA P-256
#   RFC 7635 at TURN          (parse Allocate, open token, MI)   vs  AES-256-GCM open + HMAC-SHA1
# plus `openssl speed ecdsap256` as an outside reference for the raw verify rate.
# Rates are per second of one thread's CPU time; figures are medians over --reps, [min-max].
# usage: bench/token_compare.sh [--reps 5] [--seconds 2] [--build DIR]   (DIR default: build)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=5; SECONDS_PER=2; BUILD=$HERE/../build
while [ $# -gt 0 ]; do case "$1" in
  --reps) REPS=$2; shift 2;; --seconds) SECONDS_PER=$2; shift 2;; --build) BUILD=$(readlink -f "$2"); shift 2;;
  -h|--help) sed -n '2,8p' "$0"; exit 0;;
  *) echo "unknown argument $1" >&2; exit 2;; esac; done
cmake --build "$BUILD" --target webims_token_bench -j2 >/dev/null || { echo "cannot build webims_token_bench in $BUILD" >&2; exit 2; }
echo "# token_compare: $(date -u +%FT%TZ) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version)"
OUT=$(mktemp)
"$BUILD/bench/webims_token_bench" --reps "$REPS" --seconds "$SECONDS_PER" | tee "$OUT" | grep -v '^rep='
SPEED=$(openssl speed -seconds "$SECONDS_PER" ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $NF}')
/usr/bin/python3 - "$OUT" "${SPEED:-0}" <<'PY'
import re, statistics, sys
vals = {}
for line in open(sys.argv[1]):
    m = re.match(r"rep=\d+ (\S+)=(\S+)", line)
    if m: vals.setdefault(m.group(1), []).append(float(m.group(2)))
def fig(k):
    v = vals.get(k, [0])
    return statistics.median(v), min(v), max(v)
print(f"| figure | per CPU second, median [min-max] | ratio to raw |")
print(f"|---|---|---|")
for name, key, raw in [("ES256 verify, raw OpenSSL (EVP_DigestVerify)", "es256_raw_per_s", None),
                       ("IMS access token (JWT ES256) validation", "jwt_verify_per_s", "es256_raw_per_s"),
                       ("AES-256-GCM open + HMAC-SHA1, raw OpenSSL", "rfc7635_raw_per_s", None),
                       ("RFC 7635 Allocate check (parse, open token, MI)", "rfc7635_verify_per_s", "rfc7635_raw_per_s")]:
    med, lo, hi = fig(key)
    ratio = f"{med / fig(raw)[0]:.2f}" if raw else ""
    print(f"| {name} | {med:,.0f} [{lo:,.0f}-{hi:,.0f}] | {ratio} |")
speed = float(sys.argv[2])
if speed:
    print(f"| `openssl speed ecdsap256` verify/s (reference) | {speed:,.0f} | jwt/speed {fig('jwt_verify_per_s')[0] / speed:.2f} |")
PY
rm -f "$OUT"
