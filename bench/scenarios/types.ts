// A scenario measures one thing on a running pair of agents (see lib/session.ts) and returns a
// result of one of the kinds below; the report knows how to tabulate each kind. A new benchmark
// (XMPP propagation, fan-out to 10 agents, annex content transfers) is a new file here, registered in
// scenarios/index.ts, reusing a result kind or adding one with its table in lib/report.ts.
import type { Session } from '../lib/session.js';
import type { Summary } from '../lib/stats.js';

export interface LatencyResult {
  kind: 'latency';
  /** Write-to-peer times of the writes that arrived, in ms, in write order. */
  samplesMs: number[];
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

export type ScenarioResult = LatencyResult | BurstResult | IdleResult;

export interface Scenario {
  /** Used by --only and in JSON. */
  readonly name: string;
  /** Shown in tables. */
  readonly title: string;
  run(s: Session): Promise<ScenarioResult>;
}
