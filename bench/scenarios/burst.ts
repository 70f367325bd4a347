// Bursts: many small files written at once in A; time from the first write until all of them are on
// B with the right content, and how many commits B's history gained for them. Three shapes:
//  - burst:        1,000 files in the top folder of the work tree (the original bench);
//  - burst-newdir: 1,000 files in a folder that did not exist a moment before (`cp -r photos/`);
//  - archive:      5,000 files of 64-512 bytes in 250 new nested folders, depth 1-4 (an unpacked
//                  tarball), written folder by folder as tar does.
// The new-folder shapes are the ones users meet: a watcher must arm itself on each new folder while
// files are already being written into it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../lib/exec.js';
import type { BenchParams } from '../lib/options.js';
import { now, sleep, waitForAll } from '../lib/poll.js';
import { type Session, waitForConvergence } from '../lib/session.js';
import { median } from '../lib/stats.js';
import type { BurstResult, BurstRun, Scenario } from './types.js';

/**
 * Poll interval for the burst: checking advances through every file that has arrived, so a poll can
 * cost up to 1,000 reads; 5 ms keeps the observer cheap while the systems work hard on 2 cores.
 */
const BURST_POLL_MS = 5;
/** After the last arrival, let both sides finish what they do next (merges, pushes) before counting. */
const SETTLE_MS = 2000;
const CONVERGE_TIMEOUT_MS = 30_000;

/** Commits on B's main: what a burst cost the history the user sees, merges included. */
async function commitCount(s: Session): Promise<number> {
  return Number((await git(s.topo.b, s.topo.env, 'rev-list', '--count', 'HEAD')).trim());
}

export interface BurstFile {
  /** Relative to the work tree, '/'-separated. */
  rel: string;
  content: string;
}

/** Folders (relative, parents first) and files of one burst; a pure function of the run's index. */
export interface BurstShape {
  dirs: string[];
  files: BurstFile[];
}

export function topFolderShape(r: number, files: number): BurstShape {
  return {
    dirs: [],
    files: Array.from({ length: files }, (_, i) => ({
      rel: `burst${r}-${String(i).padStart(4, '0')}.txt`,
      content: `burst ${r} file ${i}\n`,
    })),
  };
}

export function newFolderShape(r: number, files: number): BurstShape {
  const dir = `newdir-${r}`;
  return {
    dirs: [dir],
    files: Array.from({ length: files }, (_, i) => ({
      rel: `${dir}/f${String(i).padStart(4, '0')}.txt`,
      content: `new folder ${r} file ${i}\n`,
    })),
  };
}

/** Smallest and largest file of the archive, bytes (the 64-512). */
const ARCHIVE_MIN_BYTES = 64;
const ARCHIVE_MAX_BYTES = 512;
/** Folders nest at most this deep below the archive's own top folder, which is depth 1. */
const ARCHIVE_MAX_DEPTH = 4;

/**
 * An unpacked archive: `folders` folders (the archive's top folder, depth 1, included) whose depths
 * run 1 to 4, each below a folder one level up (a deterministic spread, so every run and every
 * system gets the same tree), and `files` files spread evenly over them, sizes 64-512 bytes.
 */
export function archiveShape(r: number, files: number, folders: number): BurstShape {
  const top = `archive-${r}`;
  const dirs: { rel: string; depth: number }[] = [{ rel: top, depth: 1 }];
  for (let k = 1; k < folders; k++) {
    // Depths 2, 3, 4 in turn below the top folder; the parent one of the folders a level up, spread
    // by a stride prime to the count so siblings are not all under the first candidate.
    const depth = 2 + ((k - 1) % (ARCHIVE_MAX_DEPTH - 1));
    const parents = dirs.filter((d) => d.depth === depth - 1);
    const parent = parents[(k * 31) % parents.length] as { rel: string; depth: number };
    dirs.push({ rel: `${parent.rel}/d${k}`, depth });
  }
  const out: BurstFile[] = [];
  const span = ARCHIVE_MAX_BYTES - ARCHIVE_MIN_BYTES + 1;
  for (let i = 0; i < files; i++) {
    const dir = dirs[i % dirs.length] as { rel: string };
    const head = `archive ${r} file ${i}\n`;
    const size = ARCHIVE_MIN_BYTES + ((i * 37) % span);
    out.push({
      rel: `${dir.rel}/f${i}.dat`,
      content: head + 'x'.repeat(Math.max(0, size - head.length - 1)) + '\n',
    });
  }
  // Written folder by folder, as tar extracts: sort by folder, parents before children.
  out.sort((a, b) =>
    a.rel.slice(0, a.rel.lastIndexOf('/')).localeCompare(b.rel.slice(0, b.rel.lastIndexOf('/'))),
  );
  return { dirs: dirs.map((d) => d.rel), files: out };
}

function burstScenario(
  name: string,
  title: string,
  shape: (r: number, p: BenchParams) => BurstShape,
  timeout: (p: BenchParams) => number,
): Scenario {
  return {
    name,
    title,
    async run(s: Session): Promise<BurstResult> {
      const { burstRuns, burstGapMs } = s.params;
      const runs: BurstRun[] = [];
      let files = 0;
      let folders = 0;
      for (let r = 0; r < burstRuns; r++) {
        if (r > 0) await sleep(burstGapMs);
        const before = await commitCount(s);
        const sh = shape(r, s.params);
        files = sh.files.length;
        folders = sh.dirs.length;
        const made = new Set<string>();
        const t0 = now();
        for (const f of sh.files) {
          const dir = f.rel.includes('/') ? f.rel.slice(0, f.rel.lastIndexOf('/')) : '';
          if (dir && !made.has(dir)) {
            mkdirSync(join(s.topo.a, dir), { recursive: true });
            made.add(dir);
          }
          writeFileSync(join(s.topo.a, f.rel), f.content);
        }
        const writeMs = now() - t0;
        const t1 = await waitForAll(
          sh.files.map((f) => ({ path: join(s.topo.b, f.rel), content: f.content })),
          { timeoutMs: timeout(s.params), intervalMs: BURST_POLL_MS, guard: s.guard },
        );
        const arrivalMs = t1 - t0;
        await waitForConvergence(s, CONVERGE_TIMEOUT_MS);
        await sleep(SETTLE_MS);
        const commits = (await commitCount(s)) - before;
        s.log(
          `${name} ${r + 1}/${burstRuns}: ${files} files on B after ${Math.round(arrivalMs)} ms ` +
            `(writing took ${Math.round(writeMs)} ms), ${commits} commit(s)`,
        );
        runs.push({ writeMs, arrivalMs, commits });
      }
      return {
        kind: 'burst',
        files,
        folders,
        runs,
        writeMs: median(runs.map((x) => x.writeMs)),
        arrivalMs: median(runs.map((x) => x.arrivalMs)),
        commits: Math.max(...runs.map((x) => x.commits)),
      };
    },
  };
}

export const burst = burstScenario(
  'burst',
  'burst of small files, top folder',
  (r, p) => topFolderShape(r, p.burstFiles),
  (p) => p.burstTimeoutMs,
);

export const burstNewdir = burstScenario(
  'burst-newdir',
  'burst into a new folder',
  (r, p) => newFolderShape(r, p.burstFiles),
  (p) => p.burstTimeoutMs,
);

export const archive = burstScenario(
  'archive',
  'unpacked archive, nested new folders',
  (r, p) => archiveShape(r, p.archiveFiles, p.archiveFolders),
  (p) => p.archiveTimeoutMs,
);
