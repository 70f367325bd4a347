// Comparison of a candidate system with the anchor, and the project's targets. Pure: records in,
// checks out (unit-tested), so the report and the JSON say the same thing.
import type { ScenarioResult } from '../scenarios/types.js';
import { ratio } from './stats.js';

/** One (system, scenario) run, as stored in the JSON results. */
export interface RunRecord {
  system: string;
  systemLabel: string;
  anchor: boolean;
  scenario: string;
  scenarioTitle: string;
  ok: boolean;
  /** Set when ok is false: what went wrong, in one line. */
  error?: string;
  /** The scenario was not attempted because the system failed earlier (setup, warm-up). */
  skipped?: boolean;
  /** Set when ok is false because a deadline passed (a change or a burst never arrived). */
  timeout?: boolean;
  durationMs: number;
  /** 1-minute load average when the run started: other work on the machine shows up here. */
  loadAtStart?: number;
  result?: ScenarioResult;
}

/** The project's targets for git-autosync (docs/benchmarks.md explains where they come from). */
export const TARGETS = {
  isolatedMedianMs: 150,
  continuousMedianMs: 200,
  /** The burst must reach the peer at least this many times faster than with the assistant. */
  burstSpeedup: 3,
  burstMaxCommits: 3,
  /** % of one core, per agent. */
  idleCpuPercent: 0.1,
} as const;

export interface Check {
  metric: string;
  unit: 'ms' | 'count' | 'percent' | 'kB';
  candidate: number | null;
  anchor: number | null;
  /** candidate / anchor: below 1 means the candidate is faster or smaller. */
  ratio: number | null;
  /** Human-readable target, or '' when the metric has none. */
  target: string;
  /** true/false when decidable; null when there is no target or a value is missing. */
  met: boolean | null;
}

function find(records: readonly RunRecord[], system: string, scenario: string): ScenarioResult | null {
  const r = records.find((x) => x.system === system && x.scenario === scenario && x.ok);
  return r?.result ?? null;
}

function latencyMedian(r: ScenarioResult | null): number | null {
  return r?.kind === 'latency' ? (r.summary?.median ?? null) : null;
}

function decide(value: number | null, ok: (v: number) => boolean): boolean | null {
  return value == null ? null : ok(value);
}

export function compare(records: readonly RunRecord[], candidate: string, anchor: string): Check[] {
  const get = (sys: string, sc: string) => find(records, sys, sc);
  const checks: Check[] = [];

  for (const [scenario, metric, limit] of [
    ['isolated', 'propagation median, isolated', TARGETS.isolatedMedianMs],
    ['continuous', 'propagation median, continuous editing', TARGETS.continuousMedianMs],
  ] as const) {
    const c = latencyMedian(get(candidate, scenario));
    const a = latencyMedian(get(anchor, scenario));
    checks.push({
      metric,
      unit: 'ms',
      candidate: c,
      anchor: a,
      ratio: ratio(c, a),
      target: `≤ ${limit} ms`,
      met: decide(c, (v) => v <= limit),
    });
  }

  const cb = get(candidate, 'burst');
  const ab = get(anchor, 'burst');
  const cTime = cb?.kind === 'burst' ? cb.arrivalMs : null;
  const aTime = ab?.kind === 'burst' ? ab.arrivalMs : null;
  const files = cb?.kind === 'burst' ? cb.files : ab?.kind === 'burst' ? ab.files : null;
  const timeRatio = ratio(cTime, aTime);
  checks.push({
    metric: `burst of ${files ?? '?'} files, time to peer`,
    unit: 'ms',
    candidate: cTime,
    anchor: aTime,
    ratio: timeRatio,
    target: `≥ ${TARGETS.burstSpeedup}× faster (ratio ≤ ${(1 / TARGETS.burstSpeedup).toFixed(2)})`,
    met: decide(timeRatio, (r) => r <= 1 / TARGETS.burstSpeedup),
  });
  const cCommits = cb?.kind === 'burst' ? cb.commits : null;
  const aCommits = ab?.kind === 'burst' ? ab.commits : null;
  checks.push({
    metric: 'burst, commits created',
    unit: 'count',
    candidate: cCommits,
    anchor: aCommits,
    ratio: ratio(cCommits, aCommits),
    target: `≤ ${TARGETS.burstMaxCommits}`,
    met: decide(cCommits, (v) => v <= TARGETS.burstMaxCommits),
  });

  const ci = get(candidate, 'idle');
  const ai = get(anchor, 'idle');
  const cCpu = ci?.kind === 'idle' ? ci.cpuPercent : null;
  const aCpu = ai?.kind === 'idle' ? ai.cpuPercent : null;
  checks.push({
    metric: 'idle CPU per agent',
    unit: 'percent',
    candidate: cCpu,
    anchor: aCpu,
    ratio: ratio(cCpu, aCpu),
    target: `< ${TARGETS.idleCpuPercent} % of a core`,
    // Compared at the precision shown (3 decimals): 4 ticks over a window 2 ms longer than 20 s is
    // 0.09999 %, which is 0.100 % in the table and must not pass as "< 0.1 %".
    met: decide(cCpu, (v) => Number(v.toFixed(3)) < TARGETS.idleCpuPercent),
  });
  const cRss = ci?.kind === 'idle' ? ci.memory.rssKb : null;
  const aRss = ai?.kind === 'idle' ? ai.memory.rssKb : null;
  checks.push({
    metric: 'idle RSS per agent (tree)',
    unit: 'kB',
    candidate: cRss,
    anchor: aRss,
    ratio: ratio(cRss, aRss),
    target: '',
    met: null,
  });
  return checks;
}

/**
 * Issue 10's targets ("fast at every shape"), each a row of the table docs/benchmarks.md carries.
 * Figures are git-autosync's; ratios candidate / anchor (below 1: faster or smaller).
 */
export const ISSUE10 = {
  /** A single saved file, new or edited, A -> B: median. */
  singleMedianMs: 100,
  relayMedianMs: 200,
  newFolderMs: 2000,
  archiveMs: 4000,
  /** Both bursts: at least this many times faster than the assistant. */
  burstSpeedup: 4,
  burstMaxCommits: 3,
  xmppMedianMs: 150,
  fanoutMedianMs: 500,
  scaleReadyMs: 5000,
  scaleLatencyMs: 150,
  scaleRssKb: 150 * 1024,
  /**
   * "About one kernel watch per folder": folders plus a tenth for the repository's own (.git, refs)
   * and the odd extra; one per file would be a hundred times this.
   */
  watchesPerFolder: 1.1,
  /** "Two agents well inside the default limit": both together at most half of it. */
  inotifyLimitShare: 0.5,
} as const;

export interface TargetRow {
  shape: string;
  target: string;
  /** git-autosync's figure, formatted; '-' when not measured. */
  measured: string;
  anchor: string;
  ratio: number | null;
  met: boolean | null;
}

/** What the XMPP suite reports per measurement (bench/suites/xmpp.ts summary records). */
export interface XmppSummary {
  mode: 'room' | 'account';
  measurement: 'propagation' | 'fanout';
  summary: { median: number } | null;
  timeouts: number;
}

const ms = (v: number | null | undefined) =>
  v == null ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
const mb = (kb: number | null | undefined) => (kb == null ? '-' : `${(kb / 1024).toFixed(0)} MB`);

export function issue10Targets(
  records: readonly RunRecord[],
  candidate: string,
  anchor: string,
  opts: { xmpp?: readonly XmppSummary[]; inotifyLimit?: number } = {},
): TargetRow[] {
  const get = (sys: string, sc: string) => find(records, sys, sc);
  const timedOut = (sys: string, sc: string) =>
    records.some((x) => x.system === sys && x.scenario === sc && !x.ok && x.timeout);
  const rows: TargetRow[] = [];
  for (const [sc, shape, limit] of [
    ['isolated', 'single new file A -> B, median', ISSUE10.singleMedianMs],
    ['edit', 'single edited file A -> B, median', ISSUE10.singleMedianMs],
    ['relay', 'A -> B -> C relay, median', ISSUE10.relayMedianMs],
    ['cloud', 'single new file A -> cloud -> B, median', ISSUE10.singleMedianMs],
  ] as const) {
    const c = latencyMedian(get(candidate, sc));
    const a = latencyMedian(get(anchor, sc));
    rows.push({
      shape,
      target: `≤ ${limit} ms`,
      measured: timedOut(candidate, sc) ? 'timeout' : ms(c),
      anchor: timedOut(anchor, sc) ? 'timeout' : ms(a),
      ratio: ratio(c, a),
      met: timedOut(candidate, sc) ? false : decide(c, (v) => v <= limit),
    });
  }
  for (const [sc, shape, limit] of [
    ['burst-newdir', 'burst into a new folder, all on peer', ISSUE10.newFolderMs],
    ['archive', 'unpacked archive (nested new folders), all on peer', ISSUE10.archiveMs],
  ] as const) {
    const cr = get(candidate, sc);
    const ar = get(anchor, sc);
    const c = cr?.kind === 'burst' ? cr : null;
    const a = ar?.kind === 'burst' ? ar : null;
    const r = ratio(c?.arrivalMs, a?.arrivalMs);
    const files = c?.files ?? a?.files;
    rows.push({
      shape: `${shape}${files ? ` (${files} files)` : ''}`,
      target: `≤ ${limit / 1000} s and ≥ ${ISSUE10.burstSpeedup}× the assistant`,
      measured: timedOut(candidate, sc) ? 'timeout' : ms(c?.arrivalMs),
      anchor: timedOut(anchor, sc) ? 'timeout' : ms(a?.arrivalMs),
      ratio: r,
      met: timedOut(candidate, sc)
        ? false
        : c == null
          ? null
          : c.arrivalMs > limit
            ? false
            : r == null
              ? null
              : r <= 1 / ISSUE10.burstSpeedup,
    });
    rows.push({
      shape: `${shape}: commits`,
      target: `≤ ${ISSUE10.burstMaxCommits}`,
      measured: c ? String(c.commits) : '-',
      anchor: a ? String(a.commits) : '-',
      ratio: ratio(c?.commits, a?.commits),
      met: decide(c?.commits ?? null, (v) => v <= ISSUE10.burstMaxCommits),
    });
  }
  for (const x of opts.xmpp ?? []) {
    const limit = x.measurement === 'propagation' ? ISSUE10.xmppMedianMs : ISSUE10.fanoutMedianMs;
    const med = x.summary?.median ?? null;
    rows.push({
      shape:
        `XMPP ${x.mode === 'room' ? 'room' : 'same account'}, cloud-only, ` +
        (x.measurement === 'propagation' ? 'one peer, median' : 'fan-out to 9 peers, median'),
      target: `≤ ${limit} ms`,
      measured: ms(med) + (x.timeouts ? ` (+${x.timeouts} timeouts)` : ''),
      anchor: '-',
      ratio: null,
      met: decide(med, (v) => v <= limit && x.timeouts === 0),
    });
  }
  const cs = get(candidate, 'scale');
  const as = get(anchor, 'scale');
  const c = cs?.kind === 'scale' ? cs : null;
  const a = as?.kind === 'scale' ? as : null;
  // A candidate whose scale run failed (an agent exited, say) misses every scale target.
  const failedScale = records.find(
    (x) => x.system === candidate && x.scenario === 'scale' && !x.ok && !x.skipped,
  );
  if (!c && failedScale) {
    for (const what of [
      'start to ready',
      'single change, median',
      'RSS per agent',
      'inotify watches per agent',
    ])
      rows.push({
        shape: `large repository: ${what}`,
        target: 'see above',
        measured: failedScale.timeout ? 'timeout' : 'failed (see Errors)',
        anchor: '-',
        ratio: null,
        met: false,
      });
  }
  if (c || a) {
    const files = (c ?? a)?.files ?? 0;
    const folders = (c ?? a)?.folders ?? 0;
    const at = `${files.toLocaleString('en-US')} files`;
    const readyCell = (x: typeof c) =>
      x == null ? '-' : x.readyMs == null ? `timeout (${ms(x.readyTimeoutMs)})` : ms(x.readyMs);
    rows.push({
      shape: `${at}: start to ready`,
      target: `≤ ${ISSUE10.scaleReadyMs / 1000} s`,
      measured: readyCell(c),
      anchor: readyCell(a),
      ratio: ratio(c?.readyMs, a?.readyMs),
      met: c == null ? null : c.readyMs == null ? false : c.readyMs <= ISSUE10.scaleReadyMs,
    });
    const cl = c?.latency?.median ?? null;
    const al = a?.latency?.median ?? null;
    rows.push({
      shape: `${at}: single change, median`,
      target: `≤ ${ISSUE10.scaleLatencyMs} ms`,
      measured: ms(cl),
      anchor: ms(al),
      ratio: ratio(cl, al),
      met: c == null ? null : cl == null ? false : cl <= ISSUE10.scaleLatencyMs,
    });
    rows.push({
      shape: `${at}: idle CPU per agent`,
      target: '≤ the assistant’s',
      measured: c ? `${c.cpuPercent.toFixed(3)} %` : '-',
      anchor: a ? `${a.cpuPercent.toFixed(3)} %` : '-',
      ratio: ratio(c?.cpuPercent, a?.cpuPercent),
      // Compared at the precision shown, like the idle target.
      met: c == null || a == null ? null : Number(c.cpuPercent.toFixed(3)) <= Number(a.cpuPercent.toFixed(3)),
    });
    const rss = (x: typeof c) => (x == null ? null : Math.max(x.memoryA.rssKb, x.memoryB.rssKb));
    rows.push({
      shape: `${at}: RSS per agent (process tree, larger of A and B)`,
      target: `≤ ${ISSUE10.scaleRssKb / 1024} MB`,
      measured: mb(rss(c)),
      anchor: mb(rss(a)),
      ratio: ratio(rss(c), rss(a)),
      met: decide(rss(c), (v) => v <= ISSUE10.scaleRssKb),
    });
    rows.push({
      shape: `${at}: commits made at start`,
      target: '0',
      measured: c ? String(c.startCommits) : '-',
      anchor: a ? String(a.startCommits) : '-',
      ratio: null,
      met: decide(c?.startCommits ?? null, (v) => v === 0),
    });
    const w = (x: typeof c) => (x == null ? null : Math.max(x.inotifyWatchesA, x.inotifyWatchesB));
    rows.push({
      shape: `${at}: inotify watches per agent (${folders} folders)`,
      target: `about one per folder (≤ ${Math.round(folders * ISSUE10.watchesPerFolder)})`,
      measured: w(c) == null ? '-' : String(w(c)),
      anchor: w(a) == null ? '-' : String(w(a)),
      ratio: ratio(w(c), w(a)),
      met: decide(w(c), (v) => v <= folders * ISSUE10.watchesPerFolder),
    });
    if (opts.inotifyLimit) {
      const limit = opts.inotifyLimit;
      const both = c ? c.inotifyWatchesA + c.inotifyWatchesB : null;
      rows.push({
        shape: `${at}: both agents' watches, share of the kernel limit (${limit})`,
        target: `≤ ${ISSUE10.inotifyLimitShare * 100} %`,
        measured: both == null ? '-' : `${((both / limit) * 100).toFixed(1)} %`,
        anchor: a ? `${(((a.inotifyWatchesA + a.inotifyWatchesB) / limit) * 100).toFixed(1)} %` : '-',
        ratio: null,
        met: decide(both, (v) => v <= limit * ISSUE10.inotifyLimitShare),
      });
    }
  }
  return rows;
}
