// Atomic file writes: a reader (another agent, the CLI, the next start after a crash) sees the old
// file or the new one, never half of one. The text goes to a temp file in the same directory
// (rename is atomic only within one file system), created with O_EXCL and its final mode (so a
// secret is never readable, even briefly), then renamed over the target.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** The file's mode (less the umask), as for open(2). */
  mode: number;
  /** fsync before the rename, so the new text is on disk before the name points at it. */
  fsync?: boolean;
}

/** Writes `text` to `path` atomically; the directory is made (0700, like .git/autosync) if missing. */
export function writeFileAtomic(path: string, text: string, opts: AtomicWriteOptions): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Random, hidden and unique: two writers (two agents on one state dir, a second start) never share one.
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', opts.mode);
  try {
    try {
      writeSync(fd, text);
      if (opts.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never made, or renamed already
    }
    throw e;
  }
}

/** Writes `value` as one line of JSON to `path` atomically, with `mode` (see writeFileAtomic). */
export function writeJsonAtomic(path: string, value: unknown, mode: number): void {
  writeFileAtomic(path, JSON.stringify(value) + '\n', { mode });
}
