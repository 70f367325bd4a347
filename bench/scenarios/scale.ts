// A large repository: scaleFiles files in scaleFolders folders (100,000 in 1,000; 20,000 in 200 with
// --quick), committed, and cloned on both sides before either agent starts. Measured per system:
//  - time to ready: from starting both agents until a change made then reaches the peer. The bench
//    writes a new file in A every READY_PROBE_EVERY_MS and ready is the first arrival on B (so a
//    system that is up but not yet syncing is not ready);
//  - single-change latency once ready (new files, inotify observer, median of scaleLatencyRuns);
//  - idle CPU over the same window as the idle scenario, RSS of each agent's process tree, and the
//    kernel inotify watches each tree holds (the kernel's limit is per user: 192,530 here);
//  - commits made at start: commits on A or B that touch any file the bench did not write (a
//    re-commit of the existing tree); the target is 0.
// When ready times out, the memory and watch figures are still taken (they say why), and the run
// reports "timeout" instead of failing. The repository is built once per size with git fast-import
// and cached under the temp dir (gas-bench-cache/), so later systems and runs only clone it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../lib/exec.js';
import type { BenchParams } from '../lib/options.js';
import { cpuPercent, listProcesses, treeCpuTicks, treeInotifyWatches, treeMemory } from '../lib/proc.js';
import { expectByInotify, now, readOrNull, sleep, TimeoutError, waitUntil } from '../lib/poll.js';
import { SetupError } from '../lib/session.js';
import { summarize } from '../lib/stats.js';
import { destroyTopology, keepTopology, makePeers, type Topology } from '../lib/topology.js';
import type { AgentPair, System } from '../systems/types.js';
import type { ScaleResult, StandaloneContext, StandaloneScenario } from './types.js';

/** A change every 250 ms while waiting for ready: ready is then known to within a quarter second. */
const READY_PROBE_EVERY_MS = 250;
/** Poll of B for the ready probes' files: 20 ms is well inside the probe interval's resolution. */
const READY_POLL_MS = 20;
/** After ready, both main branches must agree before the single changes are timed. */
const CONVERGE_TIMEOUT_MS = 120_000;
/** Quiet time after convergence, so the first timed change does not meet the ready probes' work. */
const SETTLE_MS = 3000;
/** Files the bench writes; any other path in a commit made after start is a re-commit. */
const OWN_FILE = /^(ready|scale-lat)-\d+\.txt$/;
/** fast-import of 100,000 small blobs: ~5 s on a quiet machine; generous for a busy one. */
const BUILD_TIMEOUT_MS = 600_000;

/** Builds (or reuses) a bare repository with `files` files in `folders` folders; returns its path. */
export async function scaleRepository(
  files: number,
  folders: number,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const cacheDir = join(tmpdir(), 'gas-bench-cache');
  const repo = join(cacheDir, `scale-${files}-${folders}.git`);
  const done = join(repo, 'bench-complete');
  if (existsSync(done)) return repo;
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  await git(cacheDir, env, 'init', '-q', '--bare', '-b', 'main', repo);
  const child = spawn('git', ['fast-import', '--quiet'], {
    cwd: repo,
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
  const write = async (chunk: string) => {
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
  };
  const perFolder = Math.ceil(files / folders);
  const paths: string[] = [];
  let chunk = '';
  for (let i = 0; i < files; i++) {
    const path = `d${String(Math.floor(i / perFolder)).padStart(4, '0')}/f${String(i % perFolder).padStart(4, '0')}.txt`;
    const body = `scale file ${i}\n`;
    paths.push(path);
    chunk += `blob\nmark :${i + 1}\ndata ${Buffer.byteLength(body)}\n${body}\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  const msg = `a repository of ${files} files in ${folders} folders\n`;
  chunk += `commit refs/heads/main\ncommitter Bench <bench@example.invalid> 1764720000 +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`;
  chunk += `M 100644 inline README.md\ndata 21\n# bench repository\\n\n\n`.replace('\\n', '\n');
  paths.forEach((p, i) => (chunk += `M 100644 :${i + 1} ${p}\n`));
  chunk += '\n';
  await write(chunk);
  child.stdin.end();
  const code = await exited;
  clearTimeout(killer);
  if (code !== 0) throw new Error(`git fast-import failed (${code}): ${stderr.trim().slice(-300)}`);
  writeFileSync(done, `${files} files\n`);
  return repo;
}

async function head(clone: string, env: NodeJS.ProcessEnv): Promise<string> {
  return (await git(clone, env, 'rev-parse', 'HEAD')).trim();
}

/** Commits since `from` that touch a path the bench did not write (merges list no paths here). */
async function foreignCommits(clone: string, env: NodeJS.ProcessEnv, from: string): Promise<number> {
  const out = await git(clone, env, 'log', '--format=@%H', '--name-only', `${from}..HEAD`);
  let n = 0;
  for (const block of out.split('@').filter((b) => b.trim())) {
    const names = block.split('\n').slice(1).filter(Boolean);
    if (names.some((p) => !OWN_FILE.test(p))) n++;
  }
  return n;
}

async function run(system: System, p: BenchParams, ctx: StandaloneContext): Promise<ScaleResult> {
  const log = (m: string) => ctx.log(`${system.id}/scale: ${m}`);
  let topo: Topology | undefined;
  let agents: AgentPair | undefined;
  try {
    try {
      const t = now();
      const seed = await scaleRepository(p.scaleFiles, p.scaleFolders, process.env);
      log(`repository of ${p.scaleFiles} files ready in ${Math.round(now() - t)} ms`);
      topo = await makePeers({ annex: system.annex, label: `${system.id}-scale`, seed });
      await system.setup(topo);
      log(`clones and setup ready in ${Math.round(now() - t)} ms`);
    } catch (e) {
      throw new SetupError(`setup failed: ${(e as Error).message}`);
    }
    const env = topo.env;
    const before = { a: await head(topo.a, env), b: await head(topo.b, env) };
    const t0 = now();
    agents = await system.start(topo);
    const pair = agents;
    const guard = () => {
      pair.a.assertRunning();
      pair.b.assertRunning();
    };
    // Ready: a new file in A every 250 ms until one of them is on B.
    const probes: { path: string; content: string }[] = [];
    let readyMs: number | null = null;
    let nextProbe = t0;
    const deadline = t0 + p.scaleReadyTimeoutMs;
    while (now() < deadline) {
      guard();
      if (now() >= nextProbe) {
        const name = `ready-${probes.length}.txt`;
        const content = `ready probe ${probes.length} ${process.hrtime.bigint()}\n`;
        writeFileSync(join(topo.a, name), content);
        probes.push({ path: join(topo.b, name), content });
        nextProbe += READY_PROBE_EVERY_MS;
      }
      if (probes.some((x) => readOrNull(x.path) === x.content)) {
        readyMs = now() - t0;
        break;
      }
      await sleep(READY_POLL_MS);
    }
    log(
      readyMs === null
        ? `not ready after ${p.scaleReadyTimeoutMs} ms`
        : `ready after ${Math.round(readyMs)} ms`,
    );
    const latencies: number[] = [];
    let latencyTimeouts = 0;
    if (readyMs !== null) {
      const ta = topo.a;
      const tb = topo.b;
      await waitUntil(async () => (await head(ta, env)) === (await head(tb, env)), {
        timeoutMs: CONVERGE_TIMEOUT_MS,
        intervalMs: 200,
        what: "A's and B's main to agree after ready",
        guard,
      });
      await sleep(SETTLE_MS);
      for (let i = 0; i < p.scaleLatencyRuns; i++) {
        if (i > 0) await sleep(p.isolatedGapMs);
        const name = `scale-lat-${i}.txt`;
        const text = `scale latency ${i} ${process.hrtime.bigint()}\n`;
        const arrival = expectByInotify(join(tb, name), text, p.arrivalTimeoutMs, guard);
        const t1 = now();
        writeFileSync(join(ta, name), text);
        try {
          latencies.push((await arrival) - t1);
          log(
            `change ${i + 1}/${p.scaleLatencyRuns}: ${Math.round(latencies[latencies.length - 1] as number)} ms`,
          );
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
          latencyTimeouts++;
          log(`change ${i + 1}/${p.scaleLatencyRuns}: timed out`);
        }
      }
      await sleep(p.idleSettleMs);
    }
    // Idle CPU over the idle scenario's window (after a timeout too: a system still scanning shows it).
    guard();
    const roots = { a: [pair.a.pid], b: [pair.b.pid] };
    let procs = listProcesses();
    const c0 = { a: treeCpuTicks(roots.a, procs), b: treeCpuTicks(roots.b, procs) };
    const w0 = now();
    await sleep(p.idleWindowMs);
    guard();
    procs = listProcesses();
    const windowMs = now() - w0;
    const cpuA = cpuPercent(c0.a, treeCpuTicks(roots.a, procs), windowMs);
    const cpuB = cpuPercent(c0.b, treeCpuTicks(roots.b, procs), windowMs);
    const memA = treeMemory(roots.a, procs);
    const memB = treeMemory(roots.b, procs);
    const watchesA = treeInotifyWatches(roots.a, procs);
    const watchesB = treeInotifyWatches(roots.b, procs);
    const startCommits =
      (await foreignCommits(topo.a, env, before.a)) + (await foreignCommits(topo.b, env, before.b));
    log(
      `cpu A ${cpuA.toFixed(3)} %, B ${cpuB.toFixed(3)} %; rss A ${memA.rssKb} kB, B ${memB.rssKb} kB; ` +
        `watches A ${watchesA}, B ${watchesB}; commits at start ${startCommits}`,
    );
    const { detail: _a, ...memAOut } = memA;
    const { detail: _b, ...memBOut } = memB;
    return {
      kind: 'scale',
      files: p.scaleFiles,
      folders: p.scaleFolders,
      readyMs,
      readyTimeoutMs: p.scaleReadyTimeoutMs,
      readyProbes: probes.length,
      latencySamplesMs: latencies,
      latencyTimeouts,
      latency: summarize(latencies),
      windowMs,
      cpuPercentA: cpuA,
      cpuPercentB: cpuB,
      cpuPercent: (cpuA + cpuB) / 2,
      memoryA: memAOut,
      memoryB: memBOut,
      inotifyWatchesA: watchesA,
      inotifyWatchesB: watchesB,
      startCommits,
    };
  } finally {
    if (agents) {
      const stopped = await Promise.all([agents.a.stop(), agents.b.stop()]);
      if (stopped.includes(false)) log('an agent did not stop within the timeout and was killed');
    }
    if (topo) {
      if (ctx.keep) {
        keepTopology(topo);
        log(`kept ${topo.root}`);
      } else destroyTopology(topo);
    }
  }
}

export const scale: StandaloneScenario = {
  name: 'scale',
  title: 'large repository',
  standalone: run,
};
