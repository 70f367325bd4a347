// One scenario run against one system: a fresh two-clone topology, the system's setup, both agents
// started, a warm-up that proves changes flow both ways, then the scenario, then teardown (always,
// also on error). Anything that fails before the scenario proper is a SetupError, which run.ts uses
// to skip that system's remaining scenarios instead of failing each of them slowly.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentPair, System } from '../systems/types.js';
import { git } from './exec.js';
import type { BenchParams } from './options.js';
import { ArrivalWatcher, sleep, waitUntil } from './poll.js';
import { destroyTopology, keepTopology, type Layout, makePeers, type Topology } from './topology.js';

export class SetupError extends Error {}

/**
 * First propagation includes start-up (scans, first fetch): the assistant needs ~4.5 s, git-autosync
 * ~1 s. 30 s is generous, and a pair that lost a change does not cost a minute of the run.
 */
const WARMUP_TIMEOUT_MS = 30_000;
/** After warm-up both clones' main must agree; the assistant may still be merging for a moment. */
const CONVERGE_TIMEOUT_MS = 30_000;
/** Quiet time after convergence, so the first measurement does not meet warm-up leftovers. */
const POST_WARMUP_SETTLE_MS = 2000;

export interface Session {
  system: System;
  topo: Topology;
  agents: AgentPair;
  params: BenchParams;
  /** Throws if either agent has died; call it inside every wait. */
  guard: () => void;
  log: (msg: string) => void;
}

export async function withSession<T>(
  system: System,
  scenario: string,
  params: BenchParams,
  opts: { keep: boolean; log: (msg: string) => void; diagnosticsDir?: string; layout?: Layout },
  fn: (s: Session) => Promise<T>,
): Promise<T> {
  const log = (msg: string) => opts.log(`${system.id}/${scenario}: ${msg}`);
  let topo: Topology | undefined;
  let agents: AgentPair | undefined;
  let diagnostics: string | null = null;
  try {
    try {
      topo = await makePeers({
        annex: system.annex,
        label: `${system.id}-${scenario}`,
        ...(opts.layout ? { layout: opts.layout } : {}),
      });
      await system.setup(topo);
      agents = await system.start(topo);
    } catch (e) {
      throw new SetupError(`setup failed: ${(e as Error).message}`);
    }
    const pair = agents;
    const guard = () => {
      pair.a.assertRunning();
      pair.b.assertRunning();
      pair.c?.assertRunning();
    };
    const session: Session = { system, topo, agents, params, guard, log };
    try {
      await warmUp(session);
    } catch (e) {
      throw new SetupError(
        `warm-up failed: ${(e as Error).message}; log A: ${pair.a.logTail(3)}; log B: ${pair.b.logTail(3)}`,
      );
    }
    return await fn(session);
  } catch (e) {
    // The temp dirs go away below; keep what is needed to find out why (git state now, while the
    // agents still run, and their logs once they have stopped).
    if (topo && opts.diagnosticsDir) {
      diagnostics = join(opts.diagnosticsDir, `${system.id}-${scenario}`);
      await saveGitState(topo, diagnostics).catch(() => {});
      if (e instanceof Error) e.message += ` (diagnostics in ${diagnostics})`;
    }
    throw e;
  } finally {
    if (agents) {
      const stopped = await Promise.all(
        [agents.a, agents.b, agents.c].map((x) => (x ? x.stop() : Promise.resolve(true))),
      );
      if (stopped.includes(false)) log('an agent did not stop within the timeout and was killed');
      if (diagnostics) {
        for (const [name, agent] of [
          ['A', agents.a],
          ['B', agents.b],
          ['C', agents.c],
        ] as const) {
          if (!agent) continue;
          try {
            copyFileSync(agent.logPath, join(diagnostics, `agent-${name}.log`));
          } catch {
            /* no log to keep */
          }
        }
      }
    }
    if (topo) {
      if (opts.keep) {
        keepTopology(topo);
        log(`kept ${topo.root}`);
      } else destroyTopology(topo);
    }
  }
}

/**
 * Proves that both directions work before anything is timed, and that the content travels in the
 * commit (git cat-file on the receiving side shows the file's text, not an annex pointer).
 */
async function warmUp(s: Session): Promise<void> {
  const t0 = Date.now();
  const watcher = new ArrivalWatcher(s.guard);
  try {
    const legs: [string, string, string][] = [
      [s.topo.a, s.topo.b, 'warmup-a-to-b.txt'],
      [s.topo.b, s.topo.a, 'warmup-b-to-a.txt'],
    ];
    // The chain: C hears of A's changes only through B.
    if (s.topo.c) legs.push([s.topo.a, s.topo.c, 'warmup-a-to-c.txt']);
    for (const [from, to, name] of legs) {
      const content = `warm-up ${name} ${Date.now()}\n`;
      writeFileSync(join(from, name), content);
      await watcher.expect(join(to, name), content, WARMUP_TIMEOUT_MS);
      // The work tree can change a moment before HEAD moves (a merge writes files, then the ref).
      await waitUntil(
        async () => {
          try {
            return (await git(to, s.topo.env, 'cat-file', '-p', `HEAD:${name}`)) === content;
          } catch {
            return false; // not in HEAD yet
          }
        },
        {
          timeoutMs: CONVERGE_TIMEOUT_MS,
          intervalMs: 100,
          what: `${name} with its content (not an annex pointer) in the receiver's HEAD`,
          guard: s.guard,
        },
      );
    }
  } finally {
    watcher.close();
  }
  await waitForConvergence(s, CONVERGE_TIMEOUT_MS);
  s.log(`warm-up done in ${Date.now() - t0} ms`);
  await sleep(POST_WARMUP_SETTLE_MS);
}

/** Refs, recent history and work-tree status of both clones, into dir/git-state.log (.log: gitignored). */
async function saveGitState(topo: Topology, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const parts: string[] = [];
  for (const [name, clone] of [
    ['A', topo.a],
    ['B', topo.b],
  ] as const) {
    for (const args of [
      ['for-each-ref', '--format=%(objectname) %(refname)'],
      ['log', '--oneline', '--graph', '--all', '-n', '20'],
      ['status', '--porcelain', '--untracked-files=all'],
    ]) {
      let out: string;
      try {
        out = await git(clone, topo.env, ...args);
      } catch (e) {
        out = `failed: ${(e as Error).message}`;
      }
      parts.push(`== ${name}: git ${args.join(' ')}\n${out.split('\n').slice(0, 60).join('\n')}`);
    }
  }
  writeFileSync(join(dir, 'git-state.log'), parts.join('\n') + '\n');
}

/** Waits until A's and B's main point at the same commit. */
export async function waitForConvergence(s: Session, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const [a, b] = await Promise.all([
        git(s.topo.a, s.topo.env, 'rev-parse', 'refs/heads/main'),
        git(s.topo.b, s.topo.env, 'rev-parse', 'refs/heads/main'),
      ]);
      return a === b;
    },
    { timeoutMs, intervalMs: 100, what: "A's and B's main to be the same commit", guard: s.guard },
  );
}
