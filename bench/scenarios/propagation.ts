// Write-to-peer propagation of one small file, A -> B: the time from writing a file in A's work tree
// until B's work tree holds it with the right content (polled, see lib/poll.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArrivalWatcher, now, sleep, TimeoutError } from '../lib/poll.js';
import type { Session } from '../lib/session.js';
import { summarize } from '../lib/stats.js';
import type { LatencyResult, Scenario } from './types.js';

/** A small file: one line, unique per write so a stale copy can never match. */
function content(tag: string, i: number): string {
  return `${tag} ${i} ${process.hrtime.bigint()}\n`;
}

/** Each write on an idle system: write, wait for the arrival, let everything settle, repeat. */
export const isolated: Scenario = {
  name: 'isolated',
  title: 'propagation, isolated',
  async run(s: Session): Promise<LatencyResult> {
    const { isolatedRuns, isolatedGapMs, arrivalTimeoutMs } = s.params;
    const watcher = new ArrivalWatcher(s.guard);
    const samples: number[] = [];
    let timeouts = 0;
    try {
      for (let i = 0; i < isolatedRuns; i++) {
        const name = `isolated-${String(i).padStart(3, '0')}.txt`;
        const text = content('isolated', i);
        const t0 = now();
        writeFileSync(join(s.topo.a, name), text);
        try {
          const t1 = await watcher.expect(join(s.topo.b, name), text, arrivalTimeoutMs);
          samples.push(t1 - t0);
          s.log(`run ${i + 1}/${isolatedRuns}: ${Math.round(t1 - t0)} ms`);
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
          timeouts++;
          s.log(`run ${i + 1}/${isolatedRuns}: timed out after ${arrivalTimeoutMs} ms`);
        }
        if (i < isolatedRuns - 1) await sleep(isolatedGapMs);
      }
    } finally {
      watcher.close();
    }
    return { kind: 'latency', samplesMs: samples, timeouts, summary: summarize(samples) };
  },
};

/**
 * Under continuous editing: a write to a new file every continuousIntervalMs, on a fixed schedule
 * whatever the arrivals do, and each write's arrival timed on its own (arrivals may overlap writes).
 */
export const continuous: Scenario = {
  name: 'continuous',
  title: 'propagation, continuous editing',
  async run(s: Session): Promise<LatencyResult> {
    const { continuousWrites, continuousIntervalMs, arrivalTimeoutMs } = s.params;
    const watcher = new ArrivalWatcher(s.guard);
    const arrivals: Promise<number | null>[] = [];
    const start = now();
    try {
      for (let i = 0; i < continuousWrites; i++) {
        // A fixed schedule from one start time, so a slow write does not stretch the interval.
        const due = start + i * continuousIntervalMs;
        if (due > now()) await sleep(due - now());
        s.guard();
        const name = `continuous-${String(i).padStart(3, '0')}.txt`;
        const text = content('continuous', i);
        const t0 = now();
        writeFileSync(join(s.topo.a, name), text);
        arrivals.push(
          watcher.expect(join(s.topo.b, name), text, arrivalTimeoutMs).then(
            (t1) => {
              s.log(`write ${i + 1}/${continuousWrites}: ${Math.round(t1 - t0)} ms`);
              return t1 - t0;
            },
            (e: unknown) => {
              if (!(e instanceof TimeoutError)) throw e;
              s.log(`write ${i + 1}/${continuousWrites}: timed out after ${arrivalTimeoutMs} ms`);
              return null;
            },
          ),
        );
      }
      const done = await Promise.all(arrivals);
      const samples = done.filter((x): x is number => x !== null);
      return {
        kind: 'latency',
        samplesMs: samples,
        timeouts: done.length - samples.length,
        summary: summarize(samples),
      };
    } finally {
      watcher.close();
      // A rejected arrival after an earlier one threw must not surface as an unhandled rejection.
      for (const p of arrivals) p.catch(() => {});
    }
  },
};
