// When to commit: a pure function of what is pending and the clock, table-tested.
//
// A lone save is committed as soon as the file has been quiet for QUIET_MS, so one change reaches the
// peers in well under 100 ms. A burst (many files within moments: an unpacked archive, a build, a
// `cp -r`) switches to a longer quiet period, so thousands of files become a few commits instead of
// thousands; MAX_WAIT_MS bounds how long anything waits while writes keep coming, and MAX_BATCH caps
// one commit so a huge burst is still committed in steps git handles comfortably.

export interface CommitPolicy {
  /** Editors save in one to three writes a few ms apart; 20 ms of quiet means the save is done. */
  quietMs: number;
  /**
   * While a deleted path is pending, wait this long: a rename or move is a delete and an add, and
   * the add can trail the delete by tens of ms on a loaded machine. Both in one commit let git record
   * a rename. Deletions are not latency-critical, so the extra wait costs nothing a user sees.
   */
  renameQuietMs: number;
  /** Above this many pending paths we are in a burst. */
  burstThreshold: number;
  /** In a burst, wait this long for the writes to settle before committing. */
  burstQuietMs: number;
  /** Nothing pending waits longer than this, however busy the tree is. */
  maxWaitMs: number;
  /**
   * While new folders are being filled (an unpacked archive, `cp -r`): the burst quiet period
   * applies from the first file, and nothing waits longer than this. The commit pass scans those
   * folders itself, so it holds every file written so far whatever the watcher has reported.
   */
  newFolderMaxWaitMs: number;
  /** Most paths in one commit. */
  maxBatch: number;
}

export const DEFAULT_POLICY: CommitPolicy = {
  quietMs: 20,
  renameQuietMs: 150,
  // A person saving several files at once stays below this; a script writing a tree goes far above.
  burstThreshold: 50,
  // Long enough that a script writing files back to back (sub-ms gaps, or pauses for a slow disk)
  // does not get split; short enough to be barely noticed once the burst ends. 250 ms is a third of
  // the time a 1,000-file burst takes to reach a peer; a writer that pauses longer only costs one
  // more commit, never data.
  burstQuietMs: 250,
  // Continuous activity still gets committed every few seconds, so peers are never far behind.
  maxWaitMs: 5_000,
  // Measured on 2 loaded cores: 5,000 files in 250 new folders take 2-3 s to write, and the peer
  // needs 0.5-1 s per commit of that size (stage, push, its merge). Committing every 1.5 s while
  // the writes go on keeps that work going in parallel with the writer, in 2-3 commits; 5 s made
  // the whole burst wait for one commit after the cap.
  newFolderMaxWaitMs: 1_500,
  // git handles 10k paths per commit quickly; larger bursts are committed in several steps.
  maxBatch: 10_000,
};

export interface Pending {
  count: number;
  /** Time of the oldest pending change. */
  firstAt: number;
  /** Time of the newest change. */
  lastAt: number;
  /** How many pending paths are deletions (possibly half of a rename). */
  deletes?: number;
  /** New folders are being filled (see newFolderMaxWaitMs). */
  newFolders?: boolean;
}

export type Decision = { kind: 'idle' } | { kind: 'wait'; ms: number } | { kind: 'commit'; limit: number };

export function decide(p: Pending, now: number, policy: CommitPolicy = DEFAULT_POLICY): Decision {
  if (p.count === 0) return { kind: 'idle' };
  if (p.count >= policy.maxBatch) return { kind: 'commit', limit: policy.maxBatch };
  const quiet =
    p.count > policy.burstThreshold || p.newFolders
      ? policy.burstQuietMs
      : p.deletes
        ? policy.renameQuietMs
        : policy.quietMs;
  const quietUntil = p.lastAt + quiet;
  const deadline = p.firstAt + (p.newFolders ? policy.newFolderMaxWaitMs : policy.maxWaitMs);
  if (now >= quietUntil || now >= deadline) return { kind: 'commit', limit: policy.maxBatch };
  return { kind: 'wait', ms: Math.max(1, Math.min(quietUntil, deadline) - now) };
}

export interface FileSeen {
  /** When the watcher last reported the path. */
  eventAt: number;
  size: number | null;
  mtimeMs: number | null;
  /** The ctime then, when known (a second report of the same write has the same). */
  ctimeMs?: number | null;
  /** Not a directory (see committer-raw.ts Stat). */
  file?: boolean;
}

/**
 * Whether a file can be committed now: it has not changed since the watcher last saw it (same size
 * and mtime), and its last write is at least quietMs old. A file mid-download fails one of the two
 * and waits. A deleted file (size null both times) is always ready.
 */
export function isStable(
  seen: FileSeen,
  now: { size: number | null; mtimeMs: number | null },
  at: number,
  quietMs: number,
): boolean {
  if (now.size === null) return true;
  if (seen.size !== now.size || seen.mtimeMs !== now.mtimeMs) return false;
  if (now.mtimeMs !== null && at - now.mtimeMs < quietMs) return false;
  return at - seen.eventAt >= quietMs;
}

/**
 * Open-for-write checks (see open-files.ts). A file whose size and mtime held still may still have a
 * writer: one that pauses between chunks (a download, a program appending 1 MiB every 200 ms), or
 * one large write the kernel splits. Such a file waits until every writer has closed it.
 */
export interface OpenWritePolicy {
  /**
   * Only files written this recently are looked up: a file nobody wrote for this long is rarely
   * still open for writing, and the start-up scan's hundreds of old files then cost no sweep. A
   * sweep of /proc took 2.5-5.7 ms here (81 processes, 450 descriptors; 2 cores, idle), paid once
   * per commit pass that has such a file, so a lone save's 20 ms quiet period grows by that much.
   */
  recentMs: number;
  /** Files at least this big are looked up whatever their mtime (a writer through mmap, or one
   * that paused long, on a file whose partial content in history would cost the most). */
  bigBytes: number;
  /** A file held open is looked at again this often at most (one sweep per look), not on every
   * pass; sooner while its hold is young (see openRecheckDelay). */
  recheckMs: number;
  /** The first look again after a file was found open. */
  firstRecheckMs: number;
  /**
   * A file held open this long is committed anyway, as it is: a log file a daemon keeps open
   * forever must still be synced. It is then committed at most this often while the writer lives.
   */
  maxHoldMs: number;
}

export const DEFAULT_OPEN_WRITE_POLICY: OpenWritePolicy = {
  recentMs: 10_000,
  bigBytes: 64 * 1024 * 1024,
  // Half a second: a finished download reaches the peers at most that much later, and a file held
  // for minutes costs two sweeps a second (~10 ms of CPU), not one every quiet period.
  recheckMs: 500,
  // Most writers found open at a pass are about to close (the last file of a burst, a save caught
  // mid-write): looked at again after 50 ms, then after as long as it has been held, up to
  // recheckMs. A file held for minutes still costs two sweeps a second.
  firstRecheckMs: 50,
  maxHoldMs: 5 * 60_000,
};

/** Whether a file that passed the quiet check needs the open-for-write lookup. Pure. */
export function needsOpenCheck(
  st: { size: number | null; mtimeMs: number | null },
  now: number,
  p: OpenWritePolicy = DEFAULT_OPEN_WRITE_POLICY,
): boolean {
  if (st.size === null || st.mtimeMs === null) return false; // a deletion has no writer to wait for
  return now - st.mtimeMs < p.recentMs || st.size >= p.bigBytes;
}

export type OpenWriteVerdict = 'commit' | 'hold' | 'commit-anyway';

/**
 * What to do with a quiet file after the lookup: open for writing -> hold, unless it has been held
 * for maxHoldMs (heldSince: when this hold began, undefined when it was not held) -> commit anyway;
 * not open -> commit. Pure.
 */
export function openWriteVerdict(
  open: boolean,
  heldSince: number | undefined,
  now: number,
  p: OpenWritePolicy = DEFAULT_OPEN_WRITE_POLICY,
): OpenWriteVerdict {
  if (!open) return 'commit';
  if (heldSince !== undefined && now - heldSince >= p.maxHoldMs) return 'commit-anyway';
  return 'hold';
}

/** How long until a file held open is looked at again, when it has been held for heldForMs: as long
 * again as it has been held (a doubling), from firstRecheckMs up to recheckMs. Pure. */
export function openRecheckDelay(heldForMs: number, p: OpenWritePolicy = DEFAULT_OPEN_WRITE_POLICY): number {
  return Math.min(p.recheckMs, Math.max(p.firstRecheckMs, heldForMs));
}
