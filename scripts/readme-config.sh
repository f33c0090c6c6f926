#!/usr/bin/env bash
# Rewrites the configuration reference in README.md from `webims all --print-config`, so the README
# lists every key with its default and meaning. usage: scripts/readme-config.sh [WEBIMS_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(readlink -f "${1:-build/webims}")
/usr/bin/python3 - "$BIN" README.md <<'PY'
import subprocess, sys
binary, readme = sys.argv[1], sys.argv[2]
cfg = subprocess.run([binary, "all", "--print-config"], capture_output=True, text=True, check=True, cwd="/").stdout
text = open(readme).read()
begin, end = "<!-- config:begin -->", "<!-- config:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(readme, "w").write(head + begin + "\n```toml\n" + cfg.rstrip() + "\n```\n" + end + tail)
PY
