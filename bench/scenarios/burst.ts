// A burst: many small files written at once in A; time until all of them are on B with the right
// content, and how many commits A's history gained for them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../lib/exec.js';
import { now, sleep, waitForAll } from '../lib/poll.js';
import { type Session, waitForConvergence } from '../lib/session.js';
import { median } from '../lib/stats.js';
import type { BurstResult, BurstRun, Scenario } from './types.js';

/**
 * Poll interval for the burst: checking advances through every file that has arrived, so a poll can
 * cost up to 1,000 reads; 5 ms keeps the observer cheap while the systems work hard on 2 cores.
 */
const BURST_POLL_MS = 5;
/** After the last arrival, let A finish whatever it does next (merges, pushes) before counting. */
const SETTLE_MS = 2000;
const CONVERGE_TIMEOUT_MS = 30_000;

async function commitCount(s: Session): Promise<number> {
  return Number((await git(s.topo.a, s.topo.env, 'rev-list', '--count', 'HEAD')).trim());
}

export const burst: Scenario = {
  name: 'burst',
  title: 'burst of small files',
  async run(s: Session): Promise<BurstResult> {
    const { burstFiles, burstRuns, burstGapMs, burstTimeoutMs } = s.params;
    const runs: BurstRun[] = [];
    for (let r = 0; r < burstRuns; r++) {
      if (r > 0) await sleep(burstGapMs);
      const before = await commitCount(s);
      const files = Array.from({ length: burstFiles }, (_, i) => ({
        name: `burst${r}-${String(i).padStart(4, '0')}.txt`,
        content: `burst ${r} file ${i}\n`,
      }));
      const t0 = now();
      for (const f of files) writeFileSync(join(s.topo.a, f.name), f.content);
      const writeMs = now() - t0;
      const t1 = await waitForAll(
        files.map((f) => ({ path: join(s.topo.b, f.name), content: f.content })),
        { timeoutMs: burstTimeoutMs, intervalMs: BURST_POLL_MS, guard: s.guard },
      );
      const arrivalMs = t1 - t0;
      await waitForConvergence(s, CONVERGE_TIMEOUT_MS);
      await sleep(SETTLE_MS);
      const commits = (await commitCount(s)) - before;
      s.log(
        `burst ${r + 1}/${burstRuns}: ${burstFiles} files on B after ${Math.round(arrivalMs)} ms ` +
          `(writing took ${Math.round(writeMs)} ms), ${commits} commit(s)`,
      );
      runs.push({ writeMs, arrivalMs, commits });
    }
    return {
      kind: 'burst',
      files: burstFiles,
      runs,
      writeMs: median(runs.map((x) => x.writeMs)),
      arrivalMs: median(runs.map((x) => x.arrivalMs)),
      commits: Math.max(...runs.map((x) => x.commits)),
    };
  },
};
