#!/usr/bin/env bash
# The README's configuration reference must be exactly what the binary prints: every key, default
# and explanation. Fix with scripts/readme-config.sh. usage: readme_config_test.sh WEBIMS README
set -euo pipefail
bin=$(readlink -f "$1")
want=$(cd / && "$bin" all --print-config)
have=$(sed -n '/<!-- config:begin -->/,/<!-- config:end -->/p' "$2" | sed '1,2d;$d' | sed '$d')
if [ "$want" != "$have" ]; then
  echo "README.md configuration reference is out of date; run scripts/readme-config.sh" >&2
  diff <(echo "$want") <(echo "$have") >&2 || true
  exit 1
fi
echo "README configuration reference matches webims all --print-config"
