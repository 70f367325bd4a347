// git-annex's own record of running transfers, read so that we never start a transfer another process
// (another git-annex, the assistant, or git-annex-shell serving a peer) already runs.
//
// Layout in git-annex 10.20230126, checked by running `git annex copy` on a large file and looking:
//   .git/annex/transfer/<upload|download>/<remote uuid>/<key>      transfer info file
//   .git/annex/transfer/<upload|download>/<remote uuid>/lck.<key>  lock file, empty
// The info file is "<started POSIX time>s[ <bytes complete>]\n<associated file>\n". The lock file
// carries a POSIX (fcntl) write lock for as long as the transfer runs; a stale info file whose lock
// nobody holds is a dead transfer (killed, crashed). When a peer downloads from us through
// git-annex-shell, the shell records it here as an *upload* to the peer's uuid.
//
// Node cannot test an fcntl lock (no F_GETLK binding), and `flock` locks are a different kind that
// does not see fcntl locks. Linux lists every POSIX lock in /proc/locks with the holder's pid and the
// file's device and inode, so we match the lock file's (dev, inode) there. Elsewhere (no /proc),
// a lock cannot be seen and we fall back to "info file exists and is fresh" (see docs/transfers.md).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isValidKey, isValidUuid } from '../annex/keys.js';

export type Direction = 'upload' | 'download';

export interface TransferInfo {
  /** Seconds since the epoch when the transfer started, if recorded. */
  startedAt: number | null;
  /** Bytes git-annex recorded as done (it updates this only now and then; may be null). */
  bytes: number | null;
  associatedFile: string | null;
}

/** Parses a transfer info file. Pure; tolerant of the older formats (which put a pid first). */
export function parseTransferInfo(text: string): TransferInfo {
  const lines = text.split('\n');
  const first = (lines[0] ?? '').trim();
  let startedAt: number | null = null;
  let bytes: number | null = null;
  const parts = first.split(/\s+/).filter(Boolean);
  for (const p of parts) {
    const t = /^([0-9]+(?:\.[0-9]+)?)s$/.exec(p);
    if (t && t[1] !== undefined && startedAt === null) startedAt = Number(t[1]);
    else if (/^[0-9]+$/.test(p) && startedAt !== null) bytes = Number(p);
  }
  const file = lines[1] ?? '';
  return { startedAt, bytes, associatedFile: file.length > 0 ? file : null };
}

export interface ProcLock {
  pid: number;
  major: number;
  minor: number;
  inode: bigint;
}

/**
 * Parses /proc/locks. Lines look like `5: POSIX  ADVISORY  WRITE 7975 fe:00:2147244 0 EOF`;
 * lines with `->` are processes *waiting* for a lock, not holding one, and are skipped.
 */
export function parseProcLocks(text: string): ProcLock[] {
  const out: ProcLock[] = [];
  for (const line of text.split('\n')) {
    if (line.includes('->')) continue;
    const m =
      /^\s*\d+:\s+(?:POSIX|OFDLCK|FLOCK)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m) continue;
    out.push({
      pid: Number(m[1]),
      major: parseInt(m[2] ?? '0', 16),
      minor: parseInt(m[3] ?? '0', 16),
      inode: BigInt(m[4] ?? '0'),
    });
  }
  return out;
}

/** Splits a Linux dev_t (glibc encoding) into major and minor. Pure. */
export function devMajorMinor(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

export interface RunningTransfer {
  direction: Direction;
  uuid: string;
  key: string;
  /** Holder of the lock, when /proc/locks names one. */
  pid: number | null;
  info: TransferInfo;
}

/** Without /proc/locks, an info file younger than this counts as a live transfer (git-annex
 * removes the file when a transfer ends, so only a crashed one leaves it; an hour covers any single
 * transfer we would otherwise duplicate, yet lets a crashed one be retried the same day). */
const NO_PROC_FRESH_MS = 60 * 60_000;

export class TransferDir {
  private readonly root: string;

  constructor(
    annexDir: string,
    private readonly procLocksPath = '/proc/locks',
  ) {
    this.root = join(annexDir, 'transfer');
  }

  /** Every transfer with a live lock (or, without /proc, a fresh info file). */
  list(): RunningTransfer[] {
    const locks = this.readLocks();
    const out: RunningTransfer[] = [];
    for (const direction of ['upload', 'download'] as const) {
      for (const uuid of safeReaddir(join(this.root, direction))) {
        if (!isValidUuid(uuid)) continue;
        const dir = join(this.root, direction, uuid);
        for (const name of safeReaddir(dir)) {
          if (name.startsWith('lck.') || !isValidKey(name)) continue;
          const t = this.check(dir, name, locks);
          if (t) out.push({ direction, uuid, key: name, pid: t.pid, info: t.info });
        }
      }
    }
    return out;
  }

  /**
   * Is `key` being transferred in `direction` by a live process? For downloads, `uuid` may be
   * null: content arriving from any remote counts ("nothing fetched that is already arriving").
   */
  running(direction: Direction, uuid: string | null, key: string): RunningTransfer | null {
    return this.snapshot().running(direction, uuid, key);
  }

  /**
   * Reads /proc/locks once and answers many `running` questions against it: the scheduler asks
   * about every queued entry in one pass, and re-reading the lock table per entry made that pass
   * quadratic.
   */
  snapshot(): {
    running: (direction: Direction, uuid: string | null, key: string) => RunningTransfer | null;
  } {
    const locks = this.readLocks();
    return { running: (direction, uuid, key) => this.runningWith(locks, direction, uuid, key) };
  }

  private runningWith(
    locks: ProcLock[] | null,
    direction: Direction,
    uuid: string | null,
    key: string,
  ): RunningTransfer | null {
    if (!isValidKey(key)) return null;
    const uuids = uuid ? [uuid] : safeReaddir(join(this.root, direction)).filter(isValidUuid);
    for (const u of uuids) {
      const t = this.check(join(this.root, direction, u), key, locks);
      if (t) return { direction, uuid: u, key, pid: t.pid, info: t.info };
    }
    return null;
  }

  private check(
    dir: string,
    key: string,
    locks: ProcLock[] | null,
  ): { pid: number | null; info: TransferInfo } | null {
    let infoText: string;
    try {
      infoText = readFileSync(join(dir, key), 'utf8');
    } catch {
      return null;
    }
    const info = parseTransferInfo(infoText.slice(0, 8192));
    if (locks === null) {
      try {
        const st = statSync(join(dir, key));
        return Date.now() - st.mtimeMs < NO_PROC_FRESH_MS ? { pid: null, info } : null;
      } catch {
        return null;
      }
    }
    for (const f of [`lck.${key}`, key]) {
      let st;
      try {
        st = statSync(join(dir, f), { bigint: true });
      } catch {
        continue;
      }
      const { major, minor } = devMajorMinor(st.dev);
      const holder = locks.find((l) => l.inode === st.ino && l.major === major && l.minor === minor);
      if (holder) return { pid: holder.pid > 0 ? holder.pid : null, info };
    }
    return null;
  }

  private readLocks(): ProcLock[] | null {
    try {
      return parseProcLocks(readFileSync(this.procLocksPath, 'utf8'));
    } catch {
      return null;
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
