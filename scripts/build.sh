#!/usr/bin/env bash
# Configures and builds one flavour of webims: release (default, build/), asan (build-asan/),
# fuzz (build-fuzz/, clang), and the browser WIC (web/ -> web/dist/, esbuild; a second or two).
# usage: scripts/build.sh [release|asan|fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
case "${1:-release}" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo);;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DWEBIMS_SANITIZE=ON);;
  fuzz) dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEBIMS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++);;
  *) echo "usage: scripts/build.sh [release|asan|fuzz]" >&2; exit 2;;
esac
cmake -S . -B "$dir" "${args[@]}" >/dev/null
target=()
[ "${1:-release}" = fuzz ] && target=(--target fuzz_all)
cmake --build "$dir" -j"$JOBS" "${target[@]}"
# The browser WIC the WWSF serves ([wwsf] web_root, default ./web/dist). esbuild comes with
# `npm ci` (scripts/setup.sh); a server-only build without Node gets a warning, not a failure.
if [ -x node_modules/.bin/esbuild ] && command -v node >/dev/null; then
  node web/build.mjs
else
  echo "build: web/dist not built (no node_modules/esbuild: run scripts/setup.sh); the WWSF will have no WIC app to serve" >&2
fi
