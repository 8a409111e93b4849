#!/usr/bin/env bash
# npm run irctest [-- --only ours|inspircd] [-- -k EXPR]
#
# Runs the IRC conformance suite (../shared/irctest, or IRCTEST_DIR) against this server's IRC door
# and, when Debian's `inspircd` is installed, against InspIRCd 3.15 with the benchmark anchor's
# config, through the same selection; prints each side's totals, the tests InspIRCd passes and this
# server does not, and this server's failures; it exits 1 when one of those is not by design
# (the README's list: no channel operators, no OPER, no server password).
# A tool, not part of `npm test`: it takes a few minutes (InspIRCd's run, about ten).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
suite="${IRCTEST_DIR:-$root/../shared/irctest}"
anchor="$root/../shared/bench/anchors/inspircd.conf"
only=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
[ -d "$suite/irctest" ] || { echo "irctest: no suite at $suite (set IRCTEST_DIR)" >&2; exit 2; }

venv="${IRCTEST_VENV:-${TMPDIR:-/tmp}/irctest-venv}"
if ! "$venv/bin/python" -c 'import pytest, pytest_timeout' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pytest pytest-timeout
fi

# The selection: the core of what a chat server's IRC door must do (issue 17).
files=(connection_registration join part messages names who pingpong cap echo_message message_tags time quit topic list isupport utf8 multi_prefix away whois lusers channel)
paths=()
for f in "${files[@]}"; do paths+=("irctest/server_tests/$f.py"); done
markers='not Ergo and not deprecated and not strict and not services'
work="$(mktemp -d "${TMPDIR:-/tmp}/irctest-run.XXXXXX")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

run_suite() { # name port
  (cd "$suite" && IRCTEST_SERVER_HOSTNAME=127.0.0.1 IRCTEST_SERVER_PORT="$2" "$venv/bin/python" -m pytest -p no:cacheprovider \
    --timeout 20 --controller irctest.controllers.external_server -m "$markers" -q --junitxml "$work/$1.xml" \
    "${extra[@]}" "${paths[@]}" > "$work/$1.log" 2>&1) || true
  tail -1 "$work/$1.log"
}

if [ "$only" != "inspircd" ]; then
  (cd "$root" && npm run --silent build)
  port=$(free_port)
  node "$root/dist/src/cli/main.js" serve --port 0 --irc-port "$port" --host 127.0.0.1 --admin off \
    --server-name My.Little.Server --max-connections-per-address 1000 --log-level warn > "$work/ours-server.log" 2>&1 &
  ours=$!
  trap 'kill $ours 2>/dev/null || true' EXIT
  wait_port "$port" || { echo "irctest: the server did not start (see $work/ours-server.log)" >&2; exit 1; }
  printf 'this server: '; run_suite ours "$port"
  kill "$ours"; wait "$ours" 2>/dev/null || true
fi
if [ "$only" != "ours" ]; then
  if command -v inspircd >/dev/null 2>&1 && [ -f "$anchor" ]; then
    port=$(free_port)
    sed -e "s/port=\"6667\"/port=\"$port\"/" -e "s#/tmp/inspircd-bench#$work/inspircd#g" "$anchor" > "$work/inspircd.conf"
    inspircd --runasroot --nofork --config "$work/inspircd.conf" > "$work/inspircd-out.log" 2>&1 &
    insp=$!
    wait_port "$port" || { echo "irctest: InspIRCd did not start (see $work/inspircd-out.log)" >&2; exit 1; }
    printf 'InspIRCd:    '; run_suite inspircd "$port"
    kill "$insp"; wait "$insp" 2>/dev/null || true
  else
    echo "InspIRCd: not installed (apt-get install inspircd) or no anchor config: compared with nothing"
  fi
fi

python3 - "$work" <<'PY'
import os, sys, xml.etree.ElementTree as ET
work = sys.argv[1]
def outcomes(name):
    path = os.path.join(work, name + '.xml')
    if not os.path.exists(path): return None
    result = {}
    for case in ET.parse(path).iter('testcase'):
        key = case.get('classname', '').replace('irctest.server_tests.', '') + '::' + case.get('name', '')
        if case.find('failure') is not None or case.find('error') is not None: result[key] = 'failed'
        elif case.find('skipped') is not None: result[key] = 'skipped'
        else: result[key] = 'passed'
    return result
ours, insp = outcomes('ours'), outcomes('inspircd')
# Failures by design, each a choice of the lab model (README, IRC: Conformance): channel operators
# (rooms have none), server operators (OPER) and a server password, which the door does not have.
BY_DESIGN = ('multi_prefix.', 'names.NamesTestCase::testNames2812', 'names.NamesTestCase::testNamesModern',
             'topic.TopicTestCase::testTopicMode', 'topic.TopicPrivilegesTestCase', 'who.WhoTestCase::testWhoNick',
             'who.WhoTestCase::testWhoChan', 'who.WhoTestCase::testWhoStar', 'whois.WhoisTestCase::testWhoisNumerics',
             'connection_registration.PasswordedConnectionRegistrationTestCase')
by_design = lambda key: key.startswith(BY_DESIGN)
for label, res in (('this server', ours), ('InspIRCd', insp)):
    if res is not None:
        counts = {k: sum(1 for v in res.values() if v == k) for k in ('passed', 'failed', 'skipped')}
        print(f"{label}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
status = 0
if ours is not None and insp is not None:
    behind = sorted(k for k, v in insp.items() if v == 'passed' and ours.get(k) != 'passed')
    print(f"\nInspIRCd passes, this server does not ({len(behind)}):")
    for k in behind: print('  ' + k + ('  (by design: no channel operators)' if by_design(k) else '  ** not by design **'))
    status = 1 if any(not by_design(k) for k in behind) else 0
if ours is not None:
    failed = sorted(k for k, v in ours.items() if v == 'failed')
    print(f"\nthis server's failures ({len(failed)}; by design unless marked):")
    for k in failed: print('  ' + k + ('' if by_design(k) else '  ** not by design **'))
    if any(not by_design(k) for k in failed): status = 1
print(f"\nlogs and JUnit files: {work}")
sys.exit(status)
PY
