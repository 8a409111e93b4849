#!/usr/bin/env bash
# Runs the chat server daemon in the foreground: ./start.sh [PORT] [options]  (default port 5000)
# First run installs dependencies; any run rebuilds when a source is newer than the build, so a
# `git pull` never leaves a stale build behind (scripts/ensure-built.sh). Install and build output
# go to stderr: stdout carries only the server's JSON log.
set -euo pipefail
cd "$(dirname "$0")"

./scripts/ensure-built.sh

# Every connection is a file descriptor: take all the kernel allows us.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec node dist/src/cli/main.js serve "$@"
