// Write-to-peer propagation of one small file: the time from writing a file in A's work tree until
// the receiver's work tree holds it with the right content. The receiver is watched by inotify on its
// folder (what a user's editor or file manager sees, with no poll interval of its own) and, beside
// it, by the bench's 3 ms poll as a cross-check (lib/poll.ts). Three shapes, each on an idle system:
//  - isolated: a new file each time, A -> B;
//  - edit:     the same tracked file saved again each time, A -> B (the common case for a user);
//  - relay:    a new file, A -> B -> C, where C knows only B and B must pass the change on;
//  - cloud:    a new file, A -> cloud.git -> B (git-autosync only).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArrivalWatcher, expectByInotify, now, sleep, TimeoutError } from '../lib/poll.js';
import type { Session } from '../lib/session.js';
import { summarize } from '../lib/stats.js';
import type { Layout } from '../lib/topology.js';
import type { LatencyResult, Scenario } from './types.js';

/** A small file: one line, unique per write so a stale copy can never match. */
function content(tag: string, i: number): string {
  return `${tag} ${i} ${process.hrtime.bigint()}\n`;
}

/** The edited file's first version is synced before timing starts, so each timed write is an edit. */
const EDITED_FILE = 'edited.txt';

function isolatedScenario(
  name: string,
  title: string,
  layout: Layout,
  mode: 'new' | 'edit',
  candidateOnly = false,
): Scenario {
  return {
    name,
    title,
    layout,
    candidateOnly,
    async run(s: Session): Promise<LatencyResult> {
      const { isolatedRuns, isolatedGapMs, arrivalTimeoutMs } = s.params;
      const receiver = layout === 'chain' ? s.topo.c : s.topo.b;
      if (!receiver) throw new Error(`${name} needs the chain layout's clone C`);
      const watcher = new ArrivalWatcher(s.guard);
      const samples: number[] = [];
      const pollSamples: number[] = [];
      let timeouts = 0;
      try {
        if (mode === 'edit') {
          const first = content('first version', 0);
          writeFileSync(join(s.topo.a, EDITED_FILE), first);
          await watcher.expect(join(receiver, EDITED_FILE), first, arrivalTimeoutMs);
          await sleep(isolatedGapMs);
        }
        for (let i = 0; i < isolatedRuns; i++) {
          const file = mode === 'edit' ? EDITED_FILE : `${name}-${String(i).padStart(3, '0')}.txt`;
          const text = content(name, i);
          const target = join(receiver, file);
          // Both observers are armed before the write, so neither can miss it.
          const byInotify = expectByInotify(target, text, arrivalTimeoutMs, s.guard);
          const byPoll = watcher.expect(target, text, arrivalTimeoutMs);
          const t0 = now();
          writeFileSync(join(s.topo.a, file), text);
          const [ino, poll] = await Promise.allSettled([byInotify, byPoll]);
          for (const r of [ino, poll])
            if (r.status === 'rejected' && !(r.reason instanceof TimeoutError)) throw r.reason;
          if (ino.status === 'fulfilled') {
            samples.push(ino.value - t0);
            if (poll.status === 'fulfilled') pollSamples.push(poll.value - t0);
            s.log(
              `run ${i + 1}/${isolatedRuns}: ${Math.round(ino.value - t0)} ms` +
                (poll.status === 'fulfilled' ? ` (poll: ${Math.round(poll.value - t0)} ms)` : ''),
            );
          } else {
            timeouts++;
            s.log(`run ${i + 1}/${isolatedRuns}: timed out after ${arrivalTimeoutMs} ms`);
          }
          if (i < isolatedRuns - 1) await sleep(isolatedGapMs);
        }
      } finally {
        watcher.close();
      }
      return {
        kind: 'latency',
        observer: 'inotify',
        samplesMs: samples,
        pollSamplesMs: pollSamples,
        timeouts,
        summary: summarize(samples),
      };
    },
  };
}

/** Each write on an idle system: write, wait for the arrival, let everything settle, repeat. */
export const isolated = isolatedScenario('isolated', 'propagation, new file', 'peers', 'new');
export const edit = isolatedScenario('edit', 'propagation, file edited', 'peers', 'edit');
export const relay = isolatedScenario('relay', 'propagation, A -> B -> C relay', 'chain', 'new');
/**
 * A new file through a bare repository both clones share (a server or a shared folder), which is how
 * many users set up: B learns of A's push by watching the cloud's refs. The assistant does not watch
 * a local bare remote's refs, so this one is git-autosync's alone.
 */
export const viaCloud = isolatedScenario(
  'cloud',
  'propagation, new file via a bare cloud',
  'cloud',
  'new',
  true,
);

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
        observer: 'poll',
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
