import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * No module imports itself back, however indirectly: a cycle makes load order decide which
 * side sees the other half-initialised, and ties two files that should change apart. Type-only
 * imports count too (they tie the files as much); dynamic import() counts (the edge is still there).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WALKED = ['src', 'actors', 'bench'];

/** Relative specifiers of static imports, re-exports, side-effect imports and dynamic import(). */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
/** Comment lines, so that an example in a doc comment is not taken for an import. */
const COMMENT_LINE = /^\s*(?:\/\/|\/?\*).*$/gm;

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** File → the files it imports, as paths relative to the repository root; `./x.js` means `./x.ts`. */
function importGraph(roots: readonly string[]): Graph {
  const graph: Graph = new Map();
  for (const file of roots.flatMap((root) => sourceFiles(join(ROOT, root)))) {
    const text = readFileSync(file, 'utf8').replace(COMMENT_LINE, '');
    const targets = Array.from(text.matchAll(SPECIFIER), (match) =>
      relative(ROOT, resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts'))),
    );
    graph.set(relative(ROOT, file), [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the path that closes it (first file repeated at the end). */
function findCycles(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): void => {
    if (onPath.has(file)) {
      cycles.push([...path.slice(path.indexOf(file)), file]);
      return;
    }
    if (done.has(file)) return;
    onPath.add(file);
    path.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    path.pop();
    onPath.delete(file);
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return cycles;
}

describe('import cycles', () => {
  it('finds a cycle when there is one (the walk itself works)', () => {
    const graph: Graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(findCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]]))).toEqual([]);
  });

  it('reads the imports of the real tree, type-only and dynamic ones included', () => {
    const graph = importGraph(WALKED);
    expect(graph.get('src/server.ts')).toContain('actors/server.ts');
    expect(graph.get('src/admin/collect.ts')).toContain('src/admin/dump.ts');
    expect(graph.get('src/server-actor.ts')).toEqual(['actors/server.ts']);
  });

  it(`has no cycle among ${WALKED.join(', ')}`, () => {
    const cycles = findCycles(importGraph(WALKED)).map((cycle) => cycle.join(' → '));
    expect(cycles).toEqual([]);
  });
});
