#!/usr/bin/env bash
# Runs the chat server daemon in the foreground: ./start.sh [PORT] [options]  (default port 5000).
# `./start.sh client …` and `./start.sh dump …` run the other commands (npm run client / dump).
# First run installs dependencies; any run rebuilds when a source is newer than the build, so a
# `git pull` never leaves a stale build behind. Install and build output go to stderr: stdout
# carries only the server's JSON log (or the dump). The installed `chat-server` and `chat-client`
# commands (bin/) run through here too. The command runs in the caller's directory, so relative
# paths (--admin, --socket) mean what they say.
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)

# An installed package (npm pack, a registry) has its build and no sources: nothing to do.
if [[ -d $root/src ]]; then
  (
    cd "$root"
    # One install and build at a time: two commands started at once on a fresh clone would
    # otherwise both build into dist/ while the first already runs from it.
    if command -v flock >/dev/null && { exec 9>>"$root/.start.lock"; } 2>/dev/null; then
      flock 9
    fi
    if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
      npm ci --no-audit --no-fund >&2
    fi

    stamp=dist/.build-stamp
    if [[ ! -f $stamp ]] || [[ -n $(find src actors bench package.json package-lock.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit 2>/dev/null) ]]; then
      npm run --silent build >&2
      touch "$stamp"
    fi
  )
fi

# Every connection is a file descriptor: take all the kernel allows us.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# V8 flags for a long-running chat server (CHAT_NODE_FLAGS replaces them; "" for V8's own):
# - a small young generation (2 MiB semi-spaces; V8 grows them to 16 MiB): the heap is mostly
#   long-lived connections, and at 10,000 connections the default costs about 3 KB of RSS per
#   connection for 5% more fan-out throughput;
# - no allocation-site pretenuring: V8 decides, once and for good, to allocate an object literal
#   straight into the old generation when most of its objects outlive a young collection. It so
#   decides for objects xstate makes per event (a heap profile shows them), which in chat traffic
#   die at once: the old generation fills with them (1.5 MB/s at 1,000 messages/s) and full
#   collections follow. Without it the heap stays flat, and 10,000 connections take 1.5 KB less each;
# - a quarter of V8's interrupt budget (16384 against 67584): chat traffic runs through some 140
#   hot functions (xstate's, RxJS's, ours), which V8 by default takes 4 to 5 s of traffic to
#   optimize, and with this under 2 s. A restarted daemon meets its clients' reconnect storm warm sooner.
# `npm run bench` reads the next line: the flags are written here only.
default_flags="--max-semi-space-size=2 --no-allocation-site-pretenuring --interrupt-budget=16384"
exec node ${CHAT_NODE_FLAGS-$default_flags} "$root/dist/src/cli/main.js" "$@"
