// XMPP signalling benchmark: how fast a change crosses a cloud-only topology when XMPP is the only
// thing that tells peers about it, how long a fan-out to 10 agents takes, and how many message
// stanzas each change costs.
//
// Topology: a bare "cloud" directory and clones of it that know only the cloud, with
// autosync.watchRemotes=false, so a push into the cloud notifies nobody and every propagation has to
// be carried by an XMPP signal (a real Prosody on loopback, started by test/helpers/prosody.ts).
// Both transports are measured: a MUC room, and one account's resources ("same-account" mode).
//
// Measurements, per mode:
//  (a) 2 clones: isolated writes on clone 0, time from the write to the file's content on clone 1;
//  (b) 10 clones: writes on clone 0, time until all 9 others have the content;
//  (c) messages per change: the deltas of every agent's signal.sent (stanzas sent) and
//      signal.accepted (verified signals received) over the timed writes, divided by the writes.
// The observer polls the peers' files (3 ms, as bench/lib/poll.ts explains), so an arrival is seen at
// most one interval late.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { cloud, type Topology } from '../../test/helpers/topology.js';
import type { AgentProc } from '../../test/helpers/agents.js';
import { git, read, write } from '../../test/helpers/repos.js';
import { startProsody, type ProsodyServer } from '../../test/helpers/prosody.js';
import { summarize, type Summary } from '../lib/stats.js';
import { fmtMs, renderTable } from '../lib/table.js';
import { POLL_INTERVAL_MS, now, sleep, waitUntil } from '../lib/poll.js';

/**
 * Issue 10's targets, both on the median: one peer in the cloud-only topology ≤ 150 ms, and all nine
 * others of ten clones ≤ 500 ms (earlier issues asked for 400 ms and 2 s on the slowest).
 */
const TARGET_PROPAGATION_MEDIAN_MS = 150;
const TARGET_FANOUT_MS = 500;

/** Writes per measurement. The issue asks for ≥ 10 isolated writes and ≥ 5 fan-out writes. */
const FULL = { pairWrites: 12, fanoutWrites: 6 };
const QUICK = { pairWrites: 10, fanoutWrites: 5 };
const FANOUT_AGENTS = 10;

/**
 * Quiet time before each write, so each one meets an idle system (the previous change fully
 * propagated, its pushes and announcements done): 1.5 s is several times the measured latency.
 */
const GAP_MS = 1500;
/** One change may take this long to arrive before that write counts as a timeout (not a failure). */
const ARRIVAL_TIMEOUT_MS = 15_000;
/** Connecting, joining the room and seeing every peer's presence; 10 agents start on 2 cores. */
const ONLINE_TIMEOUT_MS = 60_000;
/** First propagation after start includes start-up scans and the first fetch. */
const WARMUP_TIMEOUT_MS = 30_000;
/**
 * After the last timed arrival, wait this long before reading the counters, so stanzas that follow
 * the arrival (a receiver's own announcement after its merge) are counted with the change.
 */
const COUNTER_SETTLE_MS = 2000;
const PASSWORD = 'bench-password';
/** After all agents are online, time for the last one's room join / presence to reach the others. */
const PRESENCE_SETTLE_MS = 1000;

type Mode = 'room' | 'account';

export interface SuiteResult {
  title: string;
  table: string;
  records: unknown[];
}

interface Counters {
  sent: number;
  accepted: number;
}

interface MeasureResult {
  mode: Mode;
  measurement: 'propagation' | 'fanout';
  agents: number;
  samplesMs: number[];
  timeouts: number;
  summary: Summary | null;
  sentPerChange: number | null;
  acceptedPerChange: number | null;
  targetMs: number;
  /** Which statistic the target applies to. */
  targetOn: 'median' | 'max';
  met: boolean | null;
}

/** Topologies still running, so an error or an exit never leaves an agent behind. */
const liveTopologies = new Set<Topology>();
let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const t of liveTopologies) for (const a of t.agents) a.child?.kill('SIGKILL');
  });
}

function configure(topo: Topology, server: ProsodyServer, room: string | null): void {
  for (const c of topo.clones) {
    git(c, 'config', 'autosync.xmpp.jid', `alice@${server.domain}`);
    git(c, 'config', 'autosync.xmpp.service', server.service);
    if (room) git(c, 'config', 'autosync.xmpp.room', room);
    // Only XMPP may carry the news: nobody watches the shared cloud directory.
    git(c, 'config', 'autosync.watchRemotes', 'false');
    // One repository key on every clone, or the signals would be rejected.
    copyFileSync(join(topo.clones[0]!, '.git/autosync/key'), join(c, '.git/autosync/key'));
  }
  for (const a of topo.agents) {
    const env = (a as unknown as { env: NodeJS.ProcessEnv }).env;
    env.GIT_AUTOSYNC_XMPP_PASSWORD = PASSWORD;
    // The test helper defaults to debug logging; measure the agent as it runs for users.
    env.GIT_AUTOSYNC_LOG_LEVEL = 'info';
  }
}

async function counters(agents: readonly AgentProc[]): Promise<Counters[]> {
  const sts = await Promise.all(agents.map((a) => a.status()));
  return sts.map((s) => {
    const sig = s.signal as { sent?: number; accepted?: number };
    return { sent: sig.sent ?? NaN, accepted: sig.accepted ?? NaN };
  });
}

function deltaPerChange(before: Counters[], after: Counters[], changes: number) {
  let sent = 0;
  let accepted = 0;
  before.forEach((b, i) => {
    sent += after[i]!.sent - b.sent;
    accepted += after[i]!.accepted - b.accepted;
  });
  // NaN when the agent does not report the counters (an older build): shown as "-".
  return {
    sentPerChange: Number.isFinite(sent) ? sent / changes : null,
    acceptedPerChange: Number.isFinite(accepted) ? accepted / changes : null,
  };
}

/** Polls until every clone in `peers` holds `content` at `rel`; the time of the last arrival, or null. */
async function arrival(peers: readonly string[], rel: string, content: string, t0: number) {
  const pending = new Set(peers);
  const perPeer: number[] = [];
  for (;;) {
    for (const p of pending) {
      if (read(p, rel) === content) {
        pending.delete(p);
        perPeer.push(now() - t0);
      }
    }
    if (pending.size === 0) return { lastMs: Math.max(...perPeer), perPeer };
    if (now() - t0 > ARRIVAL_TIMEOUT_MS) return { lastMs: null, perPeer };
    await sleep(POLL_INTERVAL_MS);
  }
}

async function measure(
  server: ProsodyServer,
  mode: Mode,
  n: number,
  writes: number,
  log: (s: string) => void,
  records: unknown[],
): Promise<MeasureResult> {
  const measurement = n === 2 ? 'propagation' : 'fanout';
  const root = mkdtempSync(join(tmpdir(), `gas-bench-xmpp-${mode}-${n}-`));
  let topo: Topology | undefined;
  try {
    topo = cloud(
      root,
      Array.from({ length: n }, (_, i) => `c${i}`),
    );
    liveTopologies.add(topo);
    const room = mode === 'room' ? `bench-${randomBytes(3).toString('hex')}@${server.muc}` : null;
    configure(topo, server, room);
    await topo.startAll();
    const agents = topo.agents;
    await waitUntil(
      async () => {
        const sts = await Promise.all(agents.map((a) => a.status()));
        return sts.every((s) => s.signal.state === 'online');
      },
      { timeoutMs: ONLINE_TIMEOUT_MS, intervalMs: 100, what: `${n} agents online (${mode})` },
    );
    const [src, ...peers] = topo.clones as [string, ...string[]];
    // signal.peers lists only peers heard from, so it cannot say when all are present; the
    // warm-up below, which must reach every peer, is what proves the signalling works end to end.
    await sleep(PRESENCE_SETTLE_MS);
    // Warm-up: one change end to end, so start-up work is not in the first sample.
    write(src, 'warmup.txt', 'warm-up\n');
    await waitUntil(() => peers.every((p) => read(p, 'warmup.txt') === 'warm-up\n'), {
      timeoutMs: WARMUP_TIMEOUT_MS,
      intervalMs: 20,
      what: `warm-up change on all ${n - 1} peers (${mode})`,
    });
    await sleep(GAP_MS);
    const before = await counters(agents);
    const samples: number[] = [];
    let timeouts = 0;
    for (let i = 0; i < writes; i++) {
      await sleep(GAP_MS);
      const rel = `${measurement}-${i}.txt`;
      const content = `${mode} ${measurement} ${i} ${randomBytes(4).toString('hex')}\n`;
      const t0 = now();
      write(src, rel, content);
      const r = await arrival(peers, rel, content, t0);
      records.push({
        suite: 'xmpp',
        kind: 'sample',
        mode,
        measurement,
        agents: n,
        i,
        ms: r.lastMs,
        perPeerMs: r.perPeer.map((x) => Math.round(x * 10) / 10),
      });
      if (r.lastMs === null) {
        timeouts++;
        log(`xmpp ${mode} ${measurement}: write ${i} timed out (${r.perPeer.length}/${peers.length})`);
      } else {
        samples.push(r.lastMs);
        log(
          `xmpp ${mode} ${measurement}: write ${i}: ${Math.round(r.lastMs)} ms (load ${loadavg()[0]?.toFixed(2)})`,
        );
      }
    }
    await sleep(COUNTER_SETTLE_MS);
    const after = await counters(agents);
    const per = deltaPerChange(before, after, writes);
    const summary = summarize(samples);
    const targetMs = measurement === 'propagation' ? TARGET_PROPAGATION_MEDIAN_MS : TARGET_FANOUT_MS;
    const targetOn = 'median';
    const met =
      summary === null
        ? false
        : timeouts === 0 && (targetOn === 'median' ? summary.median : summary.max) <= targetMs;
    const result: MeasureResult = {
      mode,
      measurement,
      agents: n,
      samplesMs: samples,
      timeouts,
      summary,
      ...per,
      targetMs,
      targetOn,
      met,
    };
    records.push({
      suite: 'xmpp',
      kind: 'summary',
      ...result,
      countersBefore: before,
      countersAfter: after,
      // The 2-core machine is shared with other test runs: how busy it was when this ended.
      load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    });
    return result;
  } finally {
    if (topo) {
      await topo.stopAll();
      liveTopologies.delete(topo);
    }
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  }
}

export async function run(opts: { quick: boolean; log: (s: string) => void }): Promise<SuiteResult> {
  installExitHook();
  const p = opts.quick ? QUICK : FULL;
  const records: unknown[] = [];
  const results: MeasureResult[] = [];
  const server = await startProsody();
  try {
    await server.register('alice', PASSWORD);
    for (const mode of ['room', 'account'] as const) {
      results.push(await measure(server, mode, 2, p.pairWrites, opts.log, records));
      results.push(await measure(server, mode, FANOUT_AGENTS, p.fanoutWrites, opts.log, records));
    }
  } finally {
    await server.stop();
  }
  const fmtPer = (x: number | null) => (x === null ? '-' : x.toFixed(2));
  const table = renderTable(
    [
      { header: 'mode' },
      { header: 'measurement' },
      { header: 'writes', align: 'right' },
      { header: 'median', align: 'right' },
      { header: 'p90', align: 'right' },
      { header: 'min', align: 'right' },
      { header: 'max', align: 'right' },
      { header: 'target' },
      { header: 'met' },
      { header: 'sent/change', align: 'right' },
      { header: 'accepted/change', align: 'right' },
    ],
    results.map((r) => [
      r.mode === 'room' ? 'room (MUC)' : 'same account',
      r.measurement === 'propagation'
        ? 'write → file on peer (2 clones)'
        : `all ${r.agents - 1} peers have it (${r.agents} agents)`,
      `${r.samplesMs.length}${r.timeouts ? ` (+${r.timeouts} timed out)` : ''}`,
      fmtMs(r.summary?.median),
      fmtMs(r.summary?.p90),
      fmtMs(r.summary?.min),
      fmtMs(r.summary?.max),
      `${r.targetOn} ≤ ${r.targetMs} ms`,
      r.met ? 'yes' : 'NO',
      fmtPer(r.sentPerChange),
      fmtPer(r.acceptedPerChange),
    ]),
  );
  return {
    title: 'XMPP signalling: propagation, fan-out, messages per change (cloud-only topology)',
    table,
    records,
  };
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  run({ quick, log: (s) => console.error(s) }).then(
    (r) => {
      console.log(`\n## ${r.title}\n\n${r.table}\n`);
      if (json) console.log(JSON.stringify(r.records));
      process.exit(0);
    },
    (e) => {
      console.error(`xmpp suite failed: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
