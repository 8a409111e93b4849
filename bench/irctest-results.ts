/**
 * What `npm run irctest` makes of pytest's JUnit files: each test's outcome, each side's totals,
 * the tests InspIRCd passes and this server does not, and the report it prints. Pure: text in,
 * text out.
 */

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  /** `file.py::Class::test[params]`, the file relative to irctest/server_tests/. */
  id: string;
  outcome: Outcome;
  /** The first line of the failure's, error's or skip's message; '' for a pass. */
  reason: string;
}

export type Results = Map<string, TestResult>;

const SUITE_PACKAGE = 'irctest.server_tests.';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

function attribute(attributes: string, name: string): string {
  const match = new RegExp(`\\b${name}="([^"]*)"`).exec(attributes);
  return match ? unescapeXml(match[1]!) : '';
}

/** `irctest.server_tests.join.JoinTestCase` and `testJoin` → `join.py::JoinTestCase::testJoin`. */
function testId(classname: string, name: string): string {
  if (!classname.startsWith(SUITE_PACKAGE)) return `${classname}::${name}`;
  const [module, ...classes] = classname.slice(SUITE_PACKAGE.length).split('.');
  return [`${module}.py`, ...classes, name].join('::');
}

/**
 * pytest's JUnit XML (written by ElementTree, so `>` and `"` in attribute values are escaped and a
 * `<testcase …>` tag ends at the first `>`). A test with both a failure and a teardown error is
 * one failure.
 */
export function parseJunit(xml: string): Results {
  const results: Results = new Map();
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attributes = match[1]!;
    const body = match[2] ?? '';
    const id = testId(attribute(attributes, 'classname'), attribute(attributes, 'name'));
    const problem = /<(failure|error|skipped)\b([^>]*)>/.exec(body);
    const outcome: Outcome = problem === null ? 'passed' : problem[1] === 'skipped' ? 'skipped' : 'failed';
    const reason = problem === null ? '' : (attribute(problem[2]!, 'message').split('\n')[0] ?? '');
    results.set(id, { id, outcome, reason });
  }
  return results;
}

export function tally(results: Results): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { passed: 0, failed: 0, skipped: 0 };
  for (const result of results.values()) counts[result.outcome]++;
  return counts;
}

/** The tests InspIRCd passes that this server fails, skips or does not run: what issue 17 forbids. */
export function regressions(ours: Results, inspircd: Results): string[] {
  return [...inspircd.values()]
    .filter((result) => result.outcome === 'passed' && ours.get(result.id)?.outcome !== 'passed')
    .map((result) => result.id)
    .sort();
}

/**
 * Failures the README explains as choices of the lab model (no channel operators, no server
 * operators, no server password): shown as such, still counted. Prefixes of test ids.
 */
export const BY_DESIGN: readonly string[] = [
  'multi_prefix.py::',
  'names.py::NamesTestCase::testNames2812',
  'names.py::NamesTestCase::testNamesModern',
  'topic.py::TopicTestCase::testTopicMode',
  'topic.py::TopicPrivilegesTestCase::',
  'who.py::WhoTestCase::testWhoNick',
  'who.py::WhoTestCase::testWhoChan',
  'who.py::WhoTestCase::testWhoStar',
  'whois.py::WhoisTestCase::testWhoisNumerics',
  'connection_registration.py::PasswordedConnectionRegistrationTestCase::',
];

const byDesign = (id: string): boolean => BY_DESIGN.some((prefix) => id.startsWith(prefix));

const REASON_WIDTH = 140;

function shortReason(reason: string): string {
  const flat = reason.replace(/\s+/g, ' ').trim();
  return flat.length > REASON_WIDTH ? `${flat.slice(0, REASON_WIDTH - 1)}…` : flat;
}

export interface Side {
  label: string;
  /** null: the side did not run (not installed, did not start, --only). */
  results: Results | null;
  /** Why the side has no results, when it has none. */
  absent?: string;
  seconds?: number;
}

/**
 * The report's lines, and whether something failed that is not by design: a test InspIRCd passes,
 * or any failure of ours, outside the README's list.
 */
export function report(ours: Side, inspircd: Side): { lines: string[]; regressed: boolean } {
  const lines: string[] = [];
  const width = Math.max(ours.label.length, inspircd.label.length) + 1;
  for (const side of [ours, inspircd]) {
    const head = `${side.label}:`.padEnd(width);
    if (side.results === null) {
      lines.push(`${head} not run (${side.absent ?? 'not asked for'})`);
      continue;
    }
    const counts = tally(side.results);
    const took = side.seconds === undefined ? '' : `  (${Math.round(side.seconds)} s)`;
    lines.push(`${head} ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped of ${side.results.size}${took}`);
  }
  let regressed = false;
  if (ours.results !== null && inspircd.results !== null) {
    const behind = regressions(ours.results, inspircd.results);
    regressed = behind.some((id) => !byDesign(id));
    lines.push('', `${inspircd.label} passes, ${ours.label} does not (${behind.length}):`);
    for (const id of behind) {
      const result = ours.results.get(id);
      const state = result === undefined ? 'not run' : result.outcome;
      lines.push(`  ${id}  [${state}${byDesign(id) ? ', by design (README)' : ''}]${result?.reason ? `  ${shortReason(result.reason)}` : ''}`);
    }
  }
  if (ours.results !== null) {
    const failed = [...ours.results.values()].filter((result) => result.outcome === 'failed').sort((a, b) => (a.id < b.id ? -1 : 1));
    lines.push('', `${ours.label}'s failures (${failed.length}):`);
    if (failed.some((result) => !byDesign(result.id))) regressed = true;
    for (const result of failed) lines.push(`  ${result.id}${byDesign(result.id) ? '  [by design (README)]' : ''}  ${shortReason(result.reason)}`);
  }
  return { lines, regressed };
}
