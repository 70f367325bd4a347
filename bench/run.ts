// `npm run bench`: git-autosync side by side with the git-annex assistant, on identical two-clone
// topologies, in one run. Prints tables and writes bench/results/<timestamp>.json and latest.json.
//
// Scenarios run one after another, and within a scenario the systems run one after another, never
// at the same time (2 cores: concurrent agents would measure each other). A system that fails only
// fails its own rows; the run still reports everything else and exits 0. Exit 1 means the harness
// itself broke, 2 a bad option.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCleanupHandlers } from './lib/agent.js';
import { exec, versionOf } from './lib/exec.js';
import { type BenchOptions, type BenchParams, paramsFor, parseOptions, USAGE } from './lib/options.js';
import { TimeoutError } from './lib/poll.js';
import { clockTicksPerSecond } from './lib/proc.js';
import {
  burstTable,
  comparisonTable,
  errorsList,
  idleTable,
  propagationTable,
  scaleTable,
  targetsTable,
} from './lib/report.js';
import { SetupError, withSession } from './lib/session.js';
import { compare, issue10Targets, type RunRecord, type XmppSummary } from './lib/targets.js';
import { destroyAllTopologies } from './lib/topology.js';
import { SCENARIOS } from './scenarios/index.js';
import { run as runXmppSuite } from './suites/xmpp.js';
import { run as runContentSuite } from './suites/annex.js';
import { run as runMapSuite } from './suites/map.js';
import { run as runSixSuite } from './suites/six.js';
import { run as runDriveSuite } from './suites/drive.js';
import { AssistantSystem } from './systems/assistant.js';
import { AutosyncSystem } from './systems/autosync.js';
import type { System } from './systems/types.js';

/** dist/bench/run.js -> the repository root, where bench/results lives (not under dist/). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/**
 * A system whose setup or warm-up failed this many times in a row is not tried for the remaining
 * scenarios: each attempt costs up to a minute of waiting, and one retry covers a transient hiccup.
 */
const MAX_SETUP_FAILURES = 2;

const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/**
 * Suites measure what does not fit the two-clone pair: XMPP propagation and fan-out (a Prosody and up
 * to 10 agents), annex content transfers (200 MB, 1,000 annexed files against the assistant), the
 * planner's own time, the expensive link on issue 11's six repositories (flood against tree), and
 * a drive's mount to in sync. They run after the pair scenarios; `--only <name>` selects them.
 */
const SUITES = [
  { name: 'xmpp', run: runXmppSuite },
  { name: 'content', run: runContentSuite },
  { name: 'planner', run: runMapSuite },
  { name: 'six', run: runSixSuite },
  { name: 'drive', run: runDriveSuite },
] as const;
const SUITE_NAMES = new Set<string>(SUITES.map((s) => s.name));

function selectSuites(o: BenchOptions) {
  if (!o.only) return [...SUITES];
  return SUITES.filter((s) => o.only!.includes(s.name));
}

/** `--only` naming suites alone runs no pair scenario. */
function onlySuites(o: BenchOptions): boolean {
  return !!o.only && o.only.length > 0 && o.only.every((n) => SUITE_NAMES.has(n));
}

function allSystems(): System[] {
  return [new AutosyncSystem(false), new AutosyncSystem(true), new AssistantSystem()];
}

/**
 * --only takes scenario names and system ids alike (`--only burst`, `--only assistant`,
 * `--only idle,autosync`): each kind narrows its own dimension, and a kind not named stays whole.
 */
function splitOnly(o: BenchOptions): { scenarios: string[] | null; systems: string[] | null } {
  if (!o.only) return { scenarios: null, systems: null };
  const scenarioNames = new Set(SCENARIOS.map((s) => s.name));
  const systemIds = new Set(allSystems().map((s) => s.id));
  const scenarios: string[] = [];
  const systems: string[] = [];
  for (const n of o.only) {
    if (SUITE_NAMES.has(n)) continue;
    if (scenarioNames.has(n)) scenarios.push(n);
    else if (systemIds.has(n)) systems.push(n);
    else throw new Error(`unknown scenario or system ${n}`);
  }
  return { scenarios: scenarios.length ? scenarios : null, systems: systems.length ? systems : null };
}

function selectSystems(o: BenchOptions): System[] {
  const all = allSystems();
  const known = new Set(all.map((s) => s.id));
  for (const id of o.systems ?? []) if (!known.has(id)) throw new Error(`unknown system ${id}`);
  // The annex variant of git-autosync doubles the candidate's share of the run; --quick leaves it out.
  const defaults = o.quick ? ['autosync', 'assistant'] : ['autosync', 'autosync-annex', 'assistant'];
  const wanted = new Set(splitOnly(o).systems ?? o.systems ?? defaults);
  return all.filter((s) => wanted.has(s.id) && !(o.skipAnchor && s.anchor));
}

function selectScenarios(o: BenchOptions) {
  if (onlySuites(o)) return [];
  const names = splitOnly(o).scenarios;
  return SCENARIOS.filter((s) => !names || names.includes(s.name));
}

async function machine(): Promise<Record<string, unknown>> {
  const cpus = os.cpus();
  const env = { PATH: process.env.PATH };
  let autosyncCommit = 'unknown';
  try {
    autosyncCommit = (
      await exec('git', ['log', '-1', '--format=%h %cI %s'], { cwd: REPO_ROOT, env, timeoutMs: 10_000 })
    ).trim();
  } catch {
    /* not a git checkout: fine */
  }
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    git: await versionOf('git', ['--version'], env),
    gitAnnex: await versionOf('git-annex', ['version', '--raw'], env),
    clockTicksPerSecond: clockTicksPerSecond(),
    autosyncCommit,
    inotifyMaxUserWatches: inotifyLimit(),
    loadAverageAtStart: os.loadavg(),
  };
}

/** The kernel's per-user inotify watch limit, or undefined where it cannot be read. */
function inotifyLimit(): number | undefined {
  try {
    const n = Number(readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Prints the tables; returns the comparisons for the JSON. */
function printReport(records: RunRecord[], systems: System[]): Record<string, unknown> {
  const parts: string[] = [];
  const section = (title: string, body: string | null) => {
    if (body) parts.push(`### ${title}\n\n${body}\n`);
  };
  section(
    'Write-to-peer propagation, one small file (inotify on the receiver; the poll beside it)',
    propagationTable(records),
  );
  section('Bursts of small files written at once in A, until all are on B', burstTable(records));
  section('Idle, after settling (per agent = mean of A and B; process trees)', idleTable(records));
  section('A large repository, committed and cloned on both sides before start', scaleTable(records));
  const anchor = systems.find((s) => s.anchor);
  const comparisons: Record<string, unknown> = {};
  for (const cand of systems.filter((s) => !s.anchor)) {
    const checks = compare(records, cand.id, anchor?.id ?? '');
    comparisons[cand.id] = checks;
    section(
      `${cand.label} vs ${anchor?.label ?? '(no anchor run)'}: ratios and targets`,
      comparisonTable(checks, cand.label, anchor?.label ?? 'anchor'),
    );
  }
  section('Errors', errorsList(records));
  process.stdout.write(parts.join('\n'));
  return comparisons;
}

/**
 * Prints the tables of a saved run again, with the current report code (e.g. after a fix to how a
 * target is judged); the measurements are the saved ones.
 */
function reprint(file: string): number {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { startedAt: string; records: RunRecord[] };
  const ids = new Set(saved.records.map((r) => r.system));
  process.stdout.write(`\n## git-autosync benchmark, ${saved.startedAt} (re-printed from ${file})\n\n`);
  printReport(
    saved.records,
    allSystems().filter((s) => ids.has(s.id)),
  );
  return 0;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  let systems: System[];
  let scenarios: typeof SCENARIOS;
  let params: BenchParams;
  try {
    opts = parseOptions(process.argv.slice(2), process.env);
    if (opts.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (opts.report) return reprint(opts.report);
    params = paramsFor(opts, process.env);
    systems = selectSystems(opts);
    scenarios = selectScenarios(opts);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  installCleanupHandlers(destroyAllTopologies);
  const startedAt = new Date();
  const info = await machine();
  log(
    `${opts.quick ? 'quick' : 'full'} run: systems ${systems.map((s) => s.id).join(', ') || '(none)'}; ` +
      `scenarios ${scenarios.map((s) => s.name).join(', ')}; ${info.cores} cores, load ${os.loadavg()[0]?.toFixed(2)}`,
  );

  const unavailable = new Map<string, string>();
  for (const s of systems) {
    try {
      await s.available();
    } catch (e) {
      unavailable.set(s.id, (e as Error).message);
      log(`${s.id}: ${(e as Error).message}`);
    }
  }
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const diagnosticsDir = join(RESULTS_DIR, `failures-${stamp}`);
  const setupFailures = new Map<string, number>();
  const records: RunRecord[] = [];
  for (const sc of scenarios) {
    for (const sys of systems) {
      // A scenario the assistant has no counterpart for (it does not watch a bare cloud's refs).
      if (sys.anchor && 'candidateOnly' in sc && sc.candidateOnly) continue;
      const base = {
        system: sys.id,
        systemLabel: sys.label,
        anchor: sys.anchor,
        scenario: sc.name,
        scenarioTitle: sc.title,
      };
      const why = unavailable.get(sys.id);
      if (why) {
        records.push({ ...base, ok: false, skipped: true, error: why, durationMs: 0 });
        continue;
      }
      const t0 = Date.now();
      const loadAtStart = os.loadavg()[0] ?? 0;
      log(`${sys.id}/${sc.name}: starting (load ${loadAtStart.toFixed(2)})`);
      try {
        const result =
          'standalone' in sc
            ? await sc.standalone(sys, params, { keep: opts.keep, log })
            : await withSession(
                sys,
                sc.name,
                params,
                { keep: opts.keep, log, diagnosticsDir, ...(sc.layout ? { layout: sc.layout } : {}) },
                (session) => sc.run(session),
              );
        records.push({ ...base, ok: true, durationMs: Date.now() - t0, loadAtStart, result });
        setupFailures.set(sys.id, 0);
      } catch (e) {
        const msg = (e as Error).message.replace(/\s+/g, ' ');
        records.push({
          ...base,
          ok: false,
          error: msg,
          durationMs: Date.now() - t0,
          loadAtStart,
          ...(e instanceof TimeoutError ? { timeout: true } : {}),
        });
        log(`${sys.id}/${sc.name}: FAILED: ${msg}`);
        if (e instanceof SetupError) {
          const n = (setupFailures.get(sys.id) ?? 0) + 1;
          setupFailures.set(sys.id, n);
          if (n >= MAX_SETUP_FAILURES)
            unavailable.set(sys.id, `not run after ${n} setup failures; last: ${msg}`);
        }
      }
      log(`${sys.id}/${sc.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  }

  const finishedAt = new Date();
  process.stdout.write(
    `\n## git-autosync benchmark, ${startedAt.toISOString()} (${opts.quick ? 'quick' : 'full'}, ` +
      `${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s)\n\n` +
      `machine: ${info.cores} cores (${info.cpuModel}), ${info.memoryMb} MB, ${info.kernel}; ${info.git}; ` +
      `git-annex ${info.gitAnnex}; node ${info.node}; load average at start ${(
        info.loadAverageAtStart as number[]
      )
        .map((x) => x.toFixed(2))
        .join(' ')}, at end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}\n` +
      `git-autosync at ${info.autosyncCommit}\n\n`,
  );
  const comparisons = scenarios.length > 0 ? printReport(records, systems) : {};
  const suites: Array<{ name: string; title?: string; ok: boolean; error?: string; records?: unknown[] }> =
    [];
  for (const suite of selectSuites(opts)) {
    log(`suite ${suite.name}`);
    try {
      const r = await suite.run({ quick: opts.quick, log });
      process.stdout.write(`\n## ${r.title}\n\n${r.table}\n`);
      suites.push({ name: suite.name, title: r.title, ok: true, records: r.records });
    } catch (e) {
      // A suite that fails reports its error and the run goes on, like a failing system.
      const msg = (e as Error)?.message ?? String(e);
      process.stdout.write(`\n## suite ${suite.name}\n\nERROR: ${msg}\n`);
      suites.push({ name: suite.name, ok: false, error: msg });
    }
  }

  // Issue 10's targets, last, as one markdown table for docs/benchmarks.md.
  const xmpp = suites
    .flatMap((x) => (x.name === 'xmpp' ? (x.records ?? []) : []))
    .filter((r): r is XmppSummary & { kind: string } => (r as { kind?: string }).kind === 'summary');
  const anchorSys = systems.find((x) => x.anchor);
  const candidate = systems.find((x) => !x.anchor && !x.annex) ?? systems.find((x) => !x.anchor);
  const targets = candidate
    ? issue10Targets(records, candidate.id, anchorSys?.id ?? '', {
        xmpp,
        inotifyLimit: info.inotifyMaxUserWatches as number | undefined,
      })
    : [];
  const tt = targetsTable(targets, candidate?.label ?? 'candidate', anchorSys?.label ?? 'assistant');
  if (tt) process.stdout.write(`\n## Targets of issue 10 (${opts.quick ? 'quick' : 'full'} run)\n\n${tt}\n`);

  const out = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    options: opts,
    params,
    machine: { ...info, loadAverageAtEnd: os.loadavg() },
    records,
    comparisons,
    suites,
    targets,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify(out, null, 2) + '\n';
  writeFileSync(join(RESULTS_DIR, `${stamp}.json`), json);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json);
  log(`results in ${join(RESULTS_DIR, `${stamp}.json`)} and latest.json`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: the harness failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
