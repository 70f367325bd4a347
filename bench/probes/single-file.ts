// Probe: why one outside measurement of a single file A -> B (164 ms median) disagreed with the
// bench's 87-94 ms. One variable at a time against a baseline (direct peers, a new file, 4.5 s of
// quiet between writes), and in every sample three observers at once on B: inotify on B's folder,
// the bench's 3 ms poll, and a 100 ms poll. Paired observers isolate the observer's own share; the
// kinds of write, alternated in one session, isolate the file being edited rather than new and the
// quiet time between writes; the two sessions, the remote layout (a bare cloud both clones share
// instead of direct peers).
//
//   node dist/bench/probes/single-file.js [--runs 10] [--only peers,cloud]
//
// Prints a markdown table and writes bench/results/probe-single-<timestamp>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanupHandlers } from '../lib/agent.js';
import { QUICK_PARAMS } from '../lib/options.js';
import { ArrivalWatcher, expectByInotify, now, sleep } from '../lib/poll.js';
import { withSession } from '../lib/session.js';
import { median } from '../lib/stats.js';
import { fmtMs, renderTable } from '../lib/table.js';
import { destroyAllTopologies, type Layout } from '../lib/topology.js';
import { AutosyncSystem } from '../systems/autosync.js';

const RESULTS_DIR = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
  'bench',
  'results',
);
/** A slow poll, as a script that checks with a sleep in a loop would do it. */
const SLOW_POLL_MS = 100;
/** One write may take this long to arrive before the probe gives up on it (a timeout row). */
const ARRIVAL_TIMEOUT_MS = 15_000;

/** One kind of write: a new file or an edit of a tracked one, after a quiet gap. */
interface Kind {
  name: string;
  edit: boolean;
  gapMs: number;
}

/**
 * The kinds alternate round-robin inside one session, so each pair of figures is taken under the
 * same load (the machine is shared; separate sessions a minute apart differed by a load of 2-3).
 */
const KINDS: Kind[] = [
  { name: 'new, 4.5 s gap', edit: false, gapMs: 4500 },
  { name: 'edit, 4.5 s gap', edit: true, gapMs: 4500 },
  { name: 'new, 1 s gap', edit: false, gapMs: 1000 },
];

interface Variant {
  name: string;
  what: string;
  layout: Layout;
}

const VARIANTS: Variant[] = [
  { name: 'peers', what: 'direct peers (the bench)', layout: 'peers' },
  { name: 'cloud', what: 'a bare cloud both clones share', layout: 'cloud' },
];

interface Sample {
  kind: string;
  load: number;
  inotifyMs: number | null;
  poll3Ms: number | null;
  poll100Ms: number | null;
}

const log = (msg: string) =>
  process.stderr.write(`[probe ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function runVariant(v: Variant, runs: number): Promise<Sample[]> {
  const system = new AutosyncSystem(false);
  const opts = { keep: false, log, layout: v.layout };
  return withSession(system, `probe-${v.name}`, QUICK_PARAMS, opts, async (s) => {
    const fast = new ArrivalWatcher(s.guard);
    const slow = new ArrivalWatcher(s.guard, SLOW_POLL_MS);
    const samples: Sample[] = [];
    try {
      const fixed = 'probe-edited.txt';
      writeFileSync(join(s.topo.a, fixed), 'first version\n');
      await fast.expect(join(s.topo.b, fixed), 'first version\n', ARRIVAL_TIMEOUT_MS);
      for (let i = 0; i < runs * KINDS.length; i++) {
        const k = KINDS[i % KINDS.length] as Kind;
        await sleep(k.gapMs);
        const name = k.edit ? fixed : `probe-${v.name}-${i}.txt`;
        const text = `${v.name} ${i} ${process.hrtime.bigint()}\n`;
        const target = join(s.topo.b, name);
        // All three observers are armed before the write.
        const ino = expectByInotify(target, text, ARRIVAL_TIMEOUT_MS, s.guard);
        const p3 = fast.expect(target, text, ARRIVAL_TIMEOUT_MS);
        const p100 = slow.expect(target, text, ARRIVAL_TIMEOUT_MS);
        const t0 = now();
        writeFileSync(join(s.topo.a, name), text);
        const rel = (p: Promise<number>) =>
          p.then(
            (t) => t - t0,
            () => null,
          );
        const [a, b, c] = await Promise.all([rel(ino), rel(p3), rel(p100)]);
        samples.push({ kind: k.name, load: os.loadavg()[0] ?? 0, inotifyMs: a, poll3Ms: b, poll100Ms: c });
        log(`${v.name} ${k.name}: inotify ${fmtMs(a)}, poll 3 ms ${fmtMs(b)}, poll 100 ms ${fmtMs(c)}`);
      }
    } finally {
      fast.close();
      slow.close();
    }
    return samples;
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 10;
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',') : null;
  installCleanupHandlers(destroyAllTopologies);
  const out: Record<string, { variant: Variant; samples: Sample[] }> = {};
  for (const v of VARIANTS.filter((x) => !only || only.includes(x.name))) {
    out[v.name] = { variant: v, samples: await runVariant(v, runs) };
  }
  const med = (xs: (number | null)[]) => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? median(ok) : null;
  };
  const table = renderTable(
    [
      { header: 'layout; write' },
      { header: 'load', align: 'right' },
      { header: 'inotify', align: 'right' },
      { header: 'poll 3 ms', align: 'right' },
      { header: `poll ${SLOW_POLL_MS} ms`, align: 'right' },
    ],
    Object.values(out).flatMap((r) =>
      KINDS.map((k) => {
        const xs = r.samples.filter((x) => x.kind === k.name);
        return [
          `${r.variant.what}; ${k.name}`,
          xs.length ? median(xs.map((x) => x.load)).toFixed(2) : '-',
          fmtMs(med(xs.map((x) => x.inotifyMs))),
          fmtMs(med(xs.map((x) => x.poll3Ms))),
          fmtMs(med(xs.map((x) => x.poll100Ms))),
        ];
      }),
    ),
  );
  process.stdout.write(`\nmedians of ${runs} writes of each kind, A -> B, git-autosync (git)\n\n${table}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `probe-single-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  log(`results in ${file}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`probe failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
