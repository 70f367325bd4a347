// The layers of src/: reads the imports of every src/**/*.ts, builds the graph of folders (an edge
// a -> b when a file in src/a imports one in src/b), and fails when folders import each other in a
// circle, or when src/core imports anything of src/ outside core/. The layer order and what each
// folder holds are in docs/architecture.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sources, read from the repository (this file runs as dist/test/unit/architecture.test.js). */
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

/** `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`: relative specifiers only. */
const IMPORT_RE = /(?:\bfrom\s+|^\s*import\s+|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The top folder of src/ a path is in ('.' for a file directly in src/). */
function folderOf(srcRoot: string, path: string): string {
  const parts = relative(srcRoot, path).split(sep);
  return parts.length > 1 ? parts[0]! : '.';
}

interface Edge {
  from: string;
  to: string;
  /** One import that makes the edge, for the message: `agent/Agent.ts -> ../signal/index.js`. */
  example: string;
}

/** The folder edges made by files (path, text) under srcRoot. Imports that leave src/ are kept as '..'. Pure. */
export function folderEdges(srcRoot: string, files: Array<{ path: string; text: string }>): Edge[] {
  const edges = new Map<string, Edge>();
  for (const f of files) {
    const from = folderOf(srcRoot, f.path);
    for (const m of f.text.matchAll(IMPORT_RE)) {
      const target = resolve(dirname(f.path), m[1]!);
      const rel = relative(srcRoot, target);
      const to = rel.startsWith('..') ? '..' : folderOf(srcRoot, target);
      if (to === from) continue;
      const key = `${from}\0${to}`;
      if (!edges.has(key)) edges.set(key, { from, to, example: `${relative(srcRoot, f.path)} -> ${m[1]}` });
    }
  }
  return [...edges.values()];
}

/** A cycle of folders as [a, b, …, a], or null when the graph has none. Pure. */
export function findCycle(edges: ReadonlyArray<{ from: string; to: string }>): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    const at = path.indexOf(n);
    if (at >= 0) return [...path.slice(at), n];
    if (done.has(n)) return null;
    path.push(n);
    for (const m of next.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    path.pop();
    done.add(n);
    return null;
  };
  for (const n of [...next.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

test('findCycle finds a circle of folders and says which', () => {
  const cases: Array<{ edges: Array<[string, string]>; cycle: string[] | null }> = [
    { edges: [], cycle: null },
    { edges: [['agent', 'core']], cycle: null },
    {
      edges: [
        ['cli', 'agent'],
        ['agent', 'git'],
        ['cli', 'git'],
      ],
      cycle: null,
    },
    {
      edges: [
        ['map', 'transfer'],
        ['transfer', 'map'],
      ],
      cycle: ['map', 'transfer', 'map'],
    },
    {
      edges: [
        ['agent', 'signal'],
        ['signal', 'core'],
        ['signal', 'agent'],
      ],
      cycle: ['agent', 'signal', 'agent'],
    },
    {
      edges: [
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'a'],
      ],
      cycle: ['a', 'b', 'c', 'a'],
    },
  ];
  for (const c of cases) {
    assert.deepEqual(
      findCycle(c.edges.map(([from, to]) => ({ from, to }))),
      c.cycle,
      JSON.stringify(c.edges),
    );
  }
});

test('folderEdges reads import and export lines, dynamic imports, and imports that leave src/', () => {
  const root = '/r/src';
  const edges = folderEdges(root, [
    {
      path: '/r/src/agent/Agent.ts',
      text: [
        "import { Supervisor } from '../core/service.js';",
        "import type { Runner } from '../git/runner.js';",
        "import { x } from './pusher.js';",
        "import { y } from 'node:fs';",
      ].join('\n'),
    },
    {
      path: '/r/src/core/bus.ts',
      text: "export { z } from '../git/errors.js';\nconst m = await import('../../x.js');",
    },
  ]);
  assert.deepEqual(
    edges.map((e) => `${e.from}->${e.to}`),
    ['agent->core', 'agent->git', 'core->git', 'core->..'],
  );
});

const files = sourceFiles(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const edges = folderEdges(SRC, files);

test('no folder of src/ is part of an import cycle', () => {
  assert.ok(files.length > 50, `read the sources from ${SRC}`);
  const cycle = findCycle(edges);
  if (cycle) {
    const why = cycle
      .slice(1)
      .map((to, i) => edges.find((e) => e.from === cycle[i] && e.to === to)!.example)
      .join('\n  ');
    assert.fail(`import cycle between folders: ${cycle.join(' -> ')}\n  ${why}`);
  }
});

test('src/core imports nothing of src/ outside core/', () => {
  const out = edges.filter((e) => e.from === 'core');
  assert.deepEqual(
    out.map((e) => e.example),
    [],
    'core/ is the bottom layer: move what it needs into core/, or the import out of it',
  );
});
