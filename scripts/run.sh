#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run the self-contained deployment (`webims all`) in
# the foreground with its data (SQLite store, generated keys and certificates) in ./var.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
exec build/webims all "$@"
