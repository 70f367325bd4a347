// A scenario measures one thing on a running pair of agents (see lib/session.ts) and returns a
// result of one of the kinds below; the report knows how to tabulate each kind. A new benchmark
// (XMPP propagation, fan-out to 10 agents, annex content transfers) is a new file here, registered in
// scenarios/index.ts, reusing a result kind or adding one with its table in lib/report.ts.
import type { Session } from '../lib/session.js';
import type { Layout } from '../lib/topology.js';
import type { BenchParams } from '../lib/options.js';
import type { System } from '../systems/types.js';
import type { Summary } from '../lib/stats.js';

export interface LatencyResult {
  kind: 'latency';
  /** Write-to-peer times of the writes that arrived, in ms, in write order. */
  samplesMs: number[];
  /** How samplesMs was observed: inotify on the receiver's folder, or the 3 ms poll (older runs). */
  observer?: 'inotify' | 'poll';
  /** The 3 ms poll's times for the same writes, beside inotify's, as a cross-check of the observer. */
  pollSamplesMs?: number[];
  /** Writes that did not arrive within the deadline (not in samplesMs, not in the summary). */
  timeouts: number;
  summary: Summary | null;
}

export interface BurstRun {
  /** Time to write all files on A (the harness's own cost, included in arrivalMs). */
  writeMs: number;
  /** From the first write on A until the last file holds its content on B. */
  arrivalMs: number;
  /** Commits added to A's HEAD (git rev-list --count delta), merges included. */
  commits: number;
}

export interface BurstResult {
  kind: 'burst';
  files: number;
  /** New folders the burst created (0: all in the existing top folder). */
  folders?: number;
  /** Each burst, in order (one topology, a quiet gap between bursts). */
  runs?: BurstRun[];
  /** Median over the runs. */
  writeMs: number;
  /** Median over the runs. */
  arrivalMs: number;
  /** The most commits any one burst took (the target is an upper bound). */
  commits: number;
}

export interface MemoryPerAgent {
  rssKb: number;
  pssKb: number;
  processes: number;
  /** Per process of the tree (for one agent; absent in the A/B mean). */
  detail?: { pid: number; comm: string; rssKb: number; pssKb: number }[];
}

export interface IdleResult {
  kind: 'idle';
  windowMs: number;
  /** % of one core, per agent (mean of A and B), process tree included. */
  cpuPercent: number;
  cpuPercentA: number;
  cpuPercentB: number;
  /** Voluntary context switches per second, per agent (mean of A and B): how often it wakes up. */
  wakeupsPerSecond?: number;
  /** Per agent (mean of A and B), process tree summed, sampled at the end of the window. */
  memory: MemoryPerAgent;
  memoryA: MemoryPerAgent;
  memoryB: MemoryPerAgent;
}

/** The large-repository scenario (scenarios/scale.ts). */
export interface ScaleResult {
  kind: 'scale';
  files: number;
  folders: number;
  /** From starting both agents until the first change made after it was on B; null: timeout. */
  readyMs: number | null;
  readyTimeoutMs: number;
  /** Changes written while waiting for ready (one every 250 ms). */
  readyProbes: number;
  latencySamplesMs: number[];
  latencyTimeouts: number;
  latency: Summary | null;
  windowMs: number;
  cpuPercent: number;
  cpuPercentA: number;
  cpuPercentB: number;
  memoryA: MemoryPerAgent;
  memoryB: MemoryPerAgent;
  /** Kernel inotify watches held by each agent's process tree at the end. */
  inotifyWatchesA: number;
  inotifyWatchesB: number;
  /** Commits on A or B after start touching files the bench did not write (target 0). */
  startCommits: number;
}

export type ScenarioResult = LatencyResult | BurstResult | IdleResult | ScaleResult;

export interface Scenario {
  /** Used by --only and in JSON. */
  readonly name: string;
  /** Shown in tables. */
  readonly title: string;
  /** The topology it needs; default 'peers' (A and B, each the other's remote). */
  readonly layout?: Layout;
  /** Run for git-autosync only: the anchor has no way to do it (so no ratio either). */
  readonly candidateOnly?: boolean;
  run(s: Session): Promise<ScenarioResult>;
}

export interface StandaloneContext {
  keep: boolean;
  log: (msg: string) => void;
}

/**
 * A scenario that builds its own topology and starts the agents itself, because what it measures
 * begins before the session's warm-up would end (the scale scenario's time to ready). It must tear
 * down what it made, and throw SetupError (lib/session.ts) when it never got to measuring.
 */
export interface StandaloneScenario {
  readonly name: string;
  readonly title: string;
  standalone(system: System, params: BenchParams, ctx: StandaloneContext): Promise<ScenarioResult>;
}

export type AnyScenario = Scenario | StandaloneScenario;
