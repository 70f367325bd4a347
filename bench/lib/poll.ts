// Waiting for files to arrive on the peer: polling with a short interval and a deadline on every
// wait. Polling (rather than inotify on the peer) keeps the observer independent of both systems and
// adds a known, small bias: an arrival is seen at most one interval (plus one read) after it happens.
import { readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * 3 ms: well below the 150 ms target so the bias (≤ one interval, ~1.5 ms on average) does not
 * matter, while one failed read per 3 ms costs the 2-core machine a negligible share of one core.
 */
export const POLL_INTERVAL_MS = 3;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function now(): number {
  return performance.now();
}

export function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // not there yet (or mid-rename): same answer
  }
}

export class TimeoutError extends Error {}

/** Polls until check() is truthy; throws TimeoutError naming `what` at the deadline. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs: number; intervalMs?: number; what: string; guard?: () => void },
): Promise<NonNullable<T>> {
  const deadline = now() + opts.timeoutMs;
  for (;;) {
    opts.guard?.();
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (now() > deadline)
      throw new TimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}`);
    await sleep(opts.intervalMs ?? POLL_INTERVAL_MS);
  }
}

interface Expectation {
  path: string;
  content: string;
  deadline: number;
  resolve: (t: number) => void;
  reject: (e: Error) => void;
}

/**
 * Watches any number of files for expected content with one polling loop, so overlapping waits
 * (continuous editing: a new write every 2 s while earlier ones may still be in flight) cost one read
 * per pending file per interval, not one timer each.
 */
export class ArrivalWatcher {
  private readonly pending = new Set<Expectation>();
  private timer: NodeJS.Timeout | null = null;

  /** guard() runs on every poll and may throw (e.g. an agent died); all pending waits then reject. */
  constructor(
    private readonly guard: () => void = () => {},
    private readonly intervalMs = POLL_INTERVAL_MS,
  ) {}

  /** Resolves with the performance.now() time at which `path` was first seen holding `content`. */
  expect(path: string, content: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.add({ path, content, deadline: now() + timeoutMs, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
      this.schedule();
    }, this.intervalMs);
  }

  private tick(): void {
    try {
      this.guard();
    } catch (e) {
      for (const x of this.pending) x.reject(e as Error);
      this.pending.clear();
      return;
    }
    for (const x of this.pending) {
      const t = now();
      if (readOrNull(x.path) === x.content) {
        this.pending.delete(x);
        x.resolve(t);
      } else if (t > x.deadline) {
        this.pending.delete(x);
        x.reject(new TimeoutError(`${x.path} did not arrive before the deadline`));
      }
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const x of this.pending) x.reject(new Error('watcher closed'));
    this.pending.clear();
  }
}

/**
 * Waits until every file holds its content; resolves with the time the last one was seen. Files are
 * checked in order from the first one still missing, stopping at the first absent one, so a poll
 * costs one failed read while nothing has arrived instead of one per file (1,000 reads every few ms
 * would steal CPU from the systems being measured on a 2-core machine).
 */
export async function waitForAll(
  files: readonly { path: string; content: string }[],
  opts: { timeoutMs: number; intervalMs?: number; guard?: () => void },
): Promise<number> {
  const deadline = now() + opts.timeoutMs;
  const missing = new Set(files.map((_, i) => i));
  let last = now();
  for (;;) {
    opts.guard?.();
    for (const i of missing) {
      const f = files[i] as { path: string; content: string };
      if (readOrNull(f.path) !== f.content) break;
      missing.delete(i);
      last = now();
    }
    if (missing.size === 0) return last;
    if (now() > deadline) {
      throw new TimeoutError(
        `${missing.size} of ${files.length} files had not arrived after ${opts.timeoutMs} ms ` +
          `(first missing: ${files[[...missing][0] as number]?.path})`,
      );
    }
    await sleep(opts.intervalMs ?? POLL_INTERVAL_MS);
  }
}

/**
 * Resolves with the time `path` first holds `content`, seen by inotify on its folder (which must
 * exist) instead of a poll: the observer wakes when the peer writes, so it adds no interval of its
 * own, only the event's delivery and one read. This is how a user's editor or file manager notices a
 * change, and it is the observer the propagation figures are quoted with; the poll stays beside it
 * as a cross-check (see docs/benchmarks.md, "why the outside figure differed").
 */
export function expectByInotify(
  path: string,
  content: string,
  timeoutMs: number,
  guard: () => void = () => {},
): Promise<number> {
  const dir = dirname(path);
  const name = basename(path);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, t = 0) => {
      if (done) return;
      done = true;
      watcher.close();
      clearInterval(guardTimer);
      clearTimeout(deadline);
      if (err) reject(err);
      else resolve(t);
    };
    const look = () => {
      const t = now();
      if (readOrNull(path) === content) finish(null, t);
    };
    const watcher = watch(dir, { persistent: false }, (_event, file) => {
      if (file === null || file === name) look();
    });
    watcher.on('error', (e) => finish(e));
    // The guard (an agent died) is checked on a slow timer: it is not on the measuring path.
    const guardTimer = setInterval(() => {
      try {
        guard();
      } catch (e) {
        finish(e as Error);
      }
    }, GUARD_INTERVAL_MS);
    const deadline = setTimeout(
      () => finish(new TimeoutError(`${path} did not arrive within ${timeoutMs} ms`)),
      timeoutMs,
    );
    look(); // it may already be there
  });
}

/** How often an inotify wait checks that the agents still run: a crash is reported within 0.5 s. */
const GUARD_INTERVAL_MS = 500;
