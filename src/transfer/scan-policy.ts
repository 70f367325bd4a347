// When the transfer scan runs and what it covers: pure decisions, table-tested
// (test/unit/transfer/scan-policy.test.ts, scan-choice.test.ts).
//
// Waits on: nothing; ScanRequests (scans.ts) asks it with its pending state.
// Produces: whether the next scan reads the whole tree or just the pending files, and how long a
//   rate-limited full scan (after peers' location logs moved) must still wait.

/** Beyond this many pending paths a targeted scan is no cheaper than a full one (and the set must
 * stay bounded). */
export const MAX_TARGETED_PATHS = 10_000;
/** Rate-limited full scans (requestLocationScan) keep at least this factor × the last full scan's
 * duration between them, so they take at most ~1/(1+factor) of the time (20 % at 4): a 1,000-file
 * tree scans in about a second here, and a burst moved the location logs ~40 times. */
const LOCATION_SCAN_FACTOR = 4;
/** ...and never wait longer than this: a huge tree still learns new locations twice a minute. */
const LOCATION_SCAN_MAX_WAIT_MS = 30_000;

/** How long after the last full scan a rate-limited one may start. Pure (table-tested). */
export function locationScanDelay(lastFullMs: number): number {
  return Math.min(LOCATION_SCAN_MAX_WAIT_MS, Math.max(0, lastFullMs) * LOCATION_SCAN_FACTOR);
}

/**
 * A work-tree name that is not valid UTF-8 reaches us from git and git-annex decoded, with U+FFFD
 * in place of its bytes. git-annex cannot find the file by that name, so a targeted scan (whereis
 * by path) would skip it: such names are planned by a full scan, whose answers are by key.
 */
export function unnameable(path: string): boolean {
  return path.includes('\uFFFD');
}

export interface PendingScan {
  /** A whole-tree scan was asked for. */
  fullScan: boolean;
  /** Files waiting for a targeted scan. */
  pendingPaths: number;
  /** A rate-limited full scan is wanted (the location logs moved). */
  locationScan: boolean;
  /** When the last full scan ended, and how long it took. */
  lastFullEnd: number;
  lastFullMs: number;
  now: number;
}

export interface ScanChoice {
  /** Read the whole tree (it covers the pending files too); otherwise just the pending files. */
  full: boolean;
  /** A location scan is wanted but not yet allowed: ask again after this long. */
  locationWaitMs: number | null;
}

/** What the next scan covers. A full scan covers any pending paths; a targeted one only those paths.
 * Too many paths and the whole tree is cheaper to read in one go. */
export function chooseScan(s: PendingScan): ScanChoice {
  if (s.fullScan || s.pendingPaths > MAX_TARGETED_PATHS) return { full: true, locationWaitMs: null };
  if (!s.locationScan) return { full: false, locationWaitMs: null };
  const wait = s.lastFullEnd + locationScanDelay(s.lastFullMs) - s.now;
  return wait <= 0 ? { full: true, locationWaitMs: null } : { full: false, locationWaitMs: wait };
}

/** After a merge: whether the location scan it asks for may run now, so that one full scan covers
 * both the merged files and the moved location logs. */
export function locationScanDue(lastFullEnd: number, lastFullMs: number, now: number): boolean {
  return now >= lastFullEnd + locationScanDelay(lastFullMs);
}

/**
 * The files of keys no repository is known to hold: the commit that names them has arrived, the
 * location log that says where their content is has not (a peer pushes its git-annex branch after
 * its commit). Nothing can be planned for them until it does; then they are rescanned at once,
 * without the location scans' rate limit, which held a burst's files back for seconds (issue 10).
 * At most `max` of them (beyond, the rate-limited full scan finds the rest).
 */
export function unlocatedFiles(
  keys: readonly { file: string; present: readonly string[] }[],
  max = MAX_TARGETED_PATHS,
): string[] {
  const out: string[] = [];
  for (const k of keys) {
    if (out.length >= max) break;
    if (k.present.length === 0) out.push(k.file);
  }
  return out;
}

/**
 * Files of keys our own commits just made are planned before anything else: a new key's first
 * upload (to the cloud, say) waited 2-7 s behind the whole-tree scan that was pending anyway
 * (issue 11, item 6). When the next scan would read the whole tree, they get a targeted scan of
 * their own first; when it is a targeted one, they join it (one git-annex pass for both). Too many
 * and the whole tree is as cheap, so they wait for it.
 */
export function newKeysFirst(s: PendingScan & { newKeyPaths: number }): boolean {
  if (s.newKeyPaths === 0 || s.newKeyPaths > MAX_TARGETED_PATHS) return false;
  return chooseScan(s).full;
}
