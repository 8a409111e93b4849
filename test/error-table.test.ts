import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, SERVER_ERRORS } from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The rows of the README's table under `heading`, as cells. */
function tableUnder(heading: string): string[][] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `the README has a "${heading}" section`).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start + 1).split(/\n## /)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| code') && !line.startsWith('|---') && !line.startsWith('| kind'))
    .map((line) => line.slice(2, -2).split(' | '));
}

describe('the README against the code', () => {
  it("the error-code table says what ERRORS does: every code, its name, whether the connection closes", () => {
    const rows = tableUnder('Error codes').filter((cells) => /^\d+$/.test(cells[0]!));
    const documented = rows.map(([code, name, , connection]) => ({ code: Number(code), name, closes: connection!.startsWith('closed') }));
    const actual = Object.entries(ERRORS).map(([name, { code, closes }]) => ({ code, name, closes }));
    expect(documented).toEqual(actual);
  });

  it("the table of the server's own errors lists every kind, with the class that carries it", () => {
    const rows = tableUnder('Embedding').filter((cells) => /^`[A-Z_]+`$/.test(cells[0]!));
    expect(rows.map((cells) => cells[0]!.slice(1, -1)).sort()).toEqual(Object.keys(SERVER_ERRORS).sort());
  });
});
