// Command-line and environment options of `npm run bench`, and the parameters they select.
// Pure (argv and env in, options out), so it is unit-tested.

export interface BenchOptions {
  quick: boolean;
  /** Scenario names and/or system ids to run (see run.ts); null = all. */
  only: string[] | null;
  /** System ids to run; null = the default set. */
  systems: string[] | null;
  skipAnchor: boolean;
  /** Keep the temp dirs (and agent logs) for debugging instead of deleting them. */
  keep: boolean;
  help: boolean;
  /** Re-print the tables of a saved results JSON instead of running anything. */
  report: string | null;
}

export interface BenchParams {
  /** Isolated propagation: number of single writes, each on an idle system. */
  isolatedRuns: number;
  /**
   * Quiet time after each isolated arrival before the next write, so each write meets an idle
   * system. The assistant's committer and pusher are rate-limited loops ("sleep, then wait for
   * work"): measured here, a write 3 s after the previous arrival waits ~1-2 s for the pusher's
   * sleep to end, while from 4 s on it is pushed at once (~150 ms). 4.5 s leaves a margin.
   */
  isolatedGapMs: number;
  /**
   * Continuous editing: writes, one every continuousIntervalMs, each to a new file. The assistant's
   * pusher runs on a ~2.07 s cycle, so against 2 s writes its latency is a sawtooth that climbs
   * ~70 ms per write from ~0.15 s to ~2.2 s and wraps after ~28 writes. Fewer writes would sample
   * only the bottom of that ramp and flatter it; 30 writes (60 s) cover one whole cycle.
   */
  continuousWrites: number;
  continuousIntervalMs: number;
  /** Files in the burst. */
  burstFiles: number;
  /** Bursts per system (median reported): one burst's time varied 1.1-2.2 s between runs. */
  burstRuns: number;
  /** Quiet time between bursts (after convergence and 2 s of settling, so ≥ 5 s after any push). */
  burstGapMs: number;
  /**
   * Wait after warm-up before idle sampling starts, so start-up and the warm-up's after-effects are
   * over. Measured: git-autosync still uses ~0.15 % of a core 5-25 s after its last sync, and
   * ~0-0.08 % from ~12 s after (the harness's 2 s post-warm-up quiet counts too, so 10 s here); the
   * assistant is at 0.12-0.17 % either way. "Idle" means the latter state.
   */
  idleSettleMs: number;
  /**
   * Idle sampling window. At 100 ticks/s, 20 s resolves 0.05 % of a core per agent, 0.025 % in the
   * A/B mean: enough to decide a 0.1 % target, and it keeps a full run under 10 minutes.
   */
  idleWindowMs: number;
  /** How long one small file may take to arrive before that run counts as a timeout. */
  arrivalTimeoutMs: number;
  /** How long the whole burst may take to arrive. */
  burstTimeoutMs: number;
  /** The unpacked archive: files (64-512 bytes) and new nested folders they are spread over. */
  archiveFiles: number;
  archiveFolders: number;
  /** How long the whole archive may take to arrive (the assistant needed 31 s outside the bench). */
  archiveTimeoutMs: number;
  /** The large repository: files, spread evenly over this many folders, committed and cloned. */
  scaleFiles: number;
  scaleFolders: number;
  /**
   * Start to ready (a change made then reaches the peer) may take this long before the run reports
   * a timeout: the assistant's first agent was up after 81 s at 100,000 files, outside the bench.
   */
  scaleReadyTimeoutMs: number;
  /** Single changes timed in the large repository once it is ready (median reported). */
  scaleLatencyRuns: number;
}

export const FULL_PARAMS: BenchParams = {
  isolatedRuns: 10,
  isolatedGapMs: 4500,
  continuousWrites: 30,
  continuousIntervalMs: 2000,
  burstFiles: 1000,
  burstRuns: 3,
  burstGapMs: 3000,
  idleSettleMs: 10_000,
  idleWindowMs: 20_000,
  arrivalTimeoutMs: 20_000,
  burstTimeoutMs: 120_000,
  archiveFiles: 5000,
  archiveFolders: 250,
  archiveTimeoutMs: 180_000,
  scaleFiles: 100_000,
  scaleFolders: 1000,
  scaleReadyTimeoutMs: 300_000,
  scaleLatencyRuns: 5,
};

/** --quick: a smoke test for CI. Enough runs for a median, the same burst size so it is comparable. */
export const QUICK_PARAMS: BenchParams = {
  isolatedRuns: 3,
  isolatedGapMs: 4000,
  continuousWrites: 4,
  continuousIntervalMs: 2000,
  burstFiles: 1000,
  burstRuns: 1,
  burstGapMs: 4000,
  idleSettleMs: 2000,
  idleWindowMs: 8000,
  arrivalTimeoutMs: 15_000,
  burstTimeoutMs: 60_000,
  archiveFiles: 5000,
  archiveFolders: 250,
  archiveTimeoutMs: 120_000,
  // A fifth of the full repository (the 10k-50k figures bracket it): a quick run stays short.
  scaleFiles: 20_000,
  scaleFolders: 200,
  scaleReadyTimeoutMs: 120_000,
  scaleLatencyRuns: 5,
};

export const USAGE = `usage: npm run bench -- [--quick] [--only <name>[,...]] [--system <id>[,...]] [--skip-anchor] [--keep]
       npm run bench -- --report bench/results/<file>.json   (re-print a saved run's tables)
  --only takes scenario names and system ids:
  scenarios: isolated, edit, relay, cloud, continuous, burst, burst-newdir, archive, idle, scale
             (scale: a 100,000-file repository, 20,000 with --quick)
  systems:   autosync, autosync-annex, assistant (the anchor); default: all three, --quick: no autosync-annex
  suites:    xmpp, content, planner, six (flood against tree on issue 11's six repositories),
             drive (mount to in sync; root and a loop device only); --only <suites> runs no scenario
env: BENCH_QUICK=1, BENCH_ONLY=<scenarios>, BENCH_SYSTEMS=<ids>, BENCH_SKIP_ANCHOR=1, BENCH_KEEP=1,
     BENCH_AUTOSYNC_CLI=<path to another build's dist/src/cli/main.js>,
     BENCH_PARAMS='{"continuousWrites":30}' (override any parameter, see bench/lib/options.ts)`;

const truthy = (v: string | undefined) =>
  v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

const list = (v: string | undefined): string[] | null => {
  if (v === undefined) return null;
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length > 0 ? items : null;
};

/** Flags win over env. Throws on an unknown flag or a flag missing its value (exit 2 in run.ts). */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = {}): BenchOptions {
  const o: BenchOptions = {
    quick: truthy(env.BENCH_QUICK),
    only: list(env.BENCH_ONLY),
    systems: list(env.BENCH_SYSTEMS),
    skipAnchor: truthy(env.BENCH_SKIP_ANCHOR),
    keep: truthy(env.BENCH_KEEP),
    help: false,
    report: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--only':
        o.only = list(value());
        break;
      case '--system':
      case '--systems':
        o.systems = list(value());
        break;
      case '--skip-anchor':
        o.skipAnchor = true;
        break;
      case '--report':
        o.report = value();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return o;
}

/**
 * The parameter set for the options, with BENCH_PARAMS (a JSON object of BenchParams fields) laid
 * over it, for experiments such as a longer continuous run; unknown or non-numeric fields throw.
 */
export function paramsFor(o: BenchOptions, env: NodeJS.ProcessEnv = {}): BenchParams {
  const base = o.quick ? QUICK_PARAMS : FULL_PARAMS;
  if (!env.BENCH_PARAMS) return base;
  let extra: unknown;
  try {
    extra = JSON.parse(env.BENCH_PARAMS);
  } catch {
    throw new Error('BENCH_PARAMS is not valid JSON');
  }
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
    throw new Error('BENCH_PARAMS must be a JSON object');
  }
  const out: BenchParams = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    if (!(k in base)) throw new Error(`BENCH_PARAMS: unknown parameter ${k}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new Error(`BENCH_PARAMS: ${k} must be a number ≥ 0`);
    out[k as keyof BenchParams] = v;
  }
  return out;
}
