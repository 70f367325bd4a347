// The expensive link, flood against tree, on issue 11's six repositories (test/helpers/six-repos.ts,
// shared with test/integration/transfer-tree.test.ts): two LANs of two laptops (cost 100) joined
// only through a bare cloud in the transfer group (cost 1000), four real agents peers over a real
// Prosody. For each planner, on fresh repositories, keys of KEY_BYTES are added on a1 one after
// another; after each, the run waits until every laptop has the content and the cloud has dropped
// its bridge copy, then counts the key's crossings of the cloud link from the agents' transfer logs
// (uploads to and downloads from `origin`). Bytes moved = crossings × the key's size: each logged
// transfer moved the whole key (an interrupted one would be retried and logged once done).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody } from '../../test/helpers/prosody.js';
import type { Topology } from '../../test/helpers/topology.js';
import { addAndSpread, cloudCrossings, sixRepoTopology, wireSixRepos } from '../../test/helpers/six-repos.js';
import { median } from '../lib/stats.js';
import { fmtMs, renderTable } from '../lib/table.js';
import { now } from '../lib/poll.js';
import type { SuiteResult } from './xmpp.js';

/** The measurement used 4 MiB files. */
const KEY_BYTES = 4 * 1024 * 1024;
/** Keys per planner: flood's count depends on timing (3 in the runs, once 4), so several. */
const FULL_KEYS = 3;
const QUICK_KEYS = 1;
const PASSWORD = 'bench-password';
const MIB = 1024 * 1024;

const live = new Set<Topology>();
let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const t of live) for (const a of t.agents) a.child?.kill('SIGKILL');
  });
}

interface PlannerRun {
  planner: 'tree' | 'flood';
  /** Cloud-link crossings of each key, in the order added. */
  crossings: number[];
  /** From the write on a1 to every laptop holding the content and the cloud's copy dropped. */
  spreadMs: number[];
  load1: number;
}

async function measure(
  planner: 'tree' | 'flood',
  keys: number,
  server: Awaited<ReturnType<typeof startProsody>>,
  log: (s: string) => void,
): Promise<PlannerRun> {
  const root = mkdtempSync(join(tmpdir(), `gas-bench-six-${planner}-`));
  const topo = sixRepoTopology(root);
  live.add(topo);
  try {
    const six = await wireSixRepos(topo, { server, user: 'alice', password: PASSWORD, planner });
    const crossings: number[] = [];
    const spreadMs: number[] = [];
    for (let i = 0; i < keys; i++) {
      const before = cloudCrossings(six.laptops);
      const t0 = now();
      await addAndSpread(six, KEY_BYTES, `big-${i}.bin`);
      spreadMs.push(now() - t0);
      crossings.push(cloudCrossings(six.laptops) - before);
      log(`six ${planner}: key ${i + 1}: ${crossings[i]} crossings, ${Math.round(spreadMs[i]!)} ms`);
    }
    return { planner, crossings, spreadMs, load1: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
  } finally {
    await topo.stopAll();
    live.delete(topo);
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

export async function run(opts: { quick: boolean; log: (s: string) => void }): Promise<SuiteResult> {
  installExitHook();
  const keys = opts.quick ? QUICK_KEYS : FULL_KEYS;
  const server = await startProsody();
  const runs: PlannerRun[] = [];
  try {
    await server.register('alice', PASSWORD);
    // One after the other, never at once: four agents each already share 2 cores.
    for (const planner of ['tree', 'flood'] as const)
      runs.push(await measure(planner, keys, server, opts.log));
  } finally {
    await server.stop();
  }
  const rows = runs.map((r) => {
    const total = r.crossings.reduce((a, b) => a + b, 0);
    return [
      r.planner,
      String(r.crossings.length),
      r.crossings.join(', '),
      `${((total / r.crossings.length) * (KEY_BYTES / MIB)).toFixed(1)} MiB`,
      `${(total * (KEY_BYTES / MIB)).toFixed(0)} MiB`,
      fmtMs(median(r.spreadMs)),
      r.load1.toFixed(2),
    ];
  });
  const table = renderTable(
    [
      { header: 'planner' },
      { header: 'keys', align: 'right' },
      { header: 'cloud crossings per key' },
      { header: 'bytes over the cloud link per key', align: 'right' },
      { header: 'total', align: 'right' },
      { header: 'write to everywhere (median)', align: 'right' },
      { header: 'load (1 min)', align: 'right' },
    ],
    rows,
  );
  const records = runs.map((r) => ({
    suite: 'six',
    planner: r.planner,
    keyBytes: KEY_BYTES,
    crossings: r.crossings,
    bytesOverCloud: r.crossings.map((c) => c * KEY_BYTES),
    spreadMs: r.spreadMs,
    load1: r.load1,
  }));
  return {
    title: `the expensive link, flood against tree (six repositories, ${KEY_BYTES / MIB} MiB keys)`,
    table,
    records,
  };
}
