#!/usr/bin/env bash
# Re-renders the pictures in docs/ from their Graphviz sources (docs/*.dot -> .png for the README and
# .svg). Needs only Debian's graphviz (`apt-get install graphviz`); not run by CI, the rendered files
# are committed. usage: scripts/render-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dot >/dev/null || { echo "render-docs: needs Graphviz's dot (apt-get install graphviz)" >&2; exit 1; }
for src in docs/*.dot; do
  # 112 dpi makes architecture.dot about 1330 px wide: the 12 pt labels stay legible when GitHub
  # scales the picture down to the README's column.
  dot -Tpng -Gdpi=112 "$src" -o "${src%.dot}.png"
  dot -Tsvg "$src" -o "${src%.dot}.svg"
  echo "rendered ${src%.dot}.png ${src%.dot}.svg"
done
