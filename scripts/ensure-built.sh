#!/usr/bin/env bash
# Installs dependencies on first run and rebuilds whenever a source is newer than the build, so a
# `git pull` never leaves a stale build behind. Used by start.sh and `npm run dump`. Output goes to
# stderr: the callers' stdout carries only the server's JSON log or the dump.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
fi

stamp=dist/.build-stamp
if [[ ! -f $stamp ]] || [[ -n $(find src actors bench package.json package-lock.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit 2>/dev/null) ]]; then
  npm run --silent build >&2
  touch "$stamp"
fi
