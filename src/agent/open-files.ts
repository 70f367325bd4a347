// Which files some process holds open for writing (Linux /proc), so the committer never commits a
// file a writer is still filling (a download, a `cp` of a large file, one big writeFileSync). The
// git-annex assistant asks lsof the same question; this reads what lsof reads: every process's
// /proc/<pid>/fd/* symlinks (readlink gives the open file's path), and for a descriptor that names
// one of the files asked about, /proc/<pid>/fdinfo/<fd>, whose `flags:` line (octal) holds the
// access mode. Processes we may not inspect (other users', when not root) are skipped: a writer we
// cannot see is caught, as before, by the size-and-mtime quiet check.
//
// Waits on nothing (synchronous reads of /proc); produces the set of the given paths that are open
// with O_WRONLY or O_RDWR. Off Linux (no /proc) it finds nothing, and the quiet check alone applies.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The access-mode bits of open(2) flags (O_ACCMODE): 0 read-only, 1 O_WRONLY, 2 O_RDWR. */
const O_ACCMODE = 0o3;

export interface OpenSweep {
  /** The asked-about paths open for writing somewhere. */
  writing: Set<string>;
  /** Processes whose descriptor table we could read, and descriptors looked at (for measurements). */
  processes: number;
  descriptors: number;
}

/** Whether an fdinfo text's flags (octal, as the kernel prints them) are a write mode. Pure. */
export function flagsWrite(fdinfo: string): boolean {
  const m = /^flags:\s*([0-7]+)/m.exec(fdinfo);
  if (!m) return false;
  const mode = parseInt(m[1]!, 8) & O_ACCMODE;
  return mode === 1 || mode === 2;
}

/**
 * One sweep of /proc for the given absolute paths (as the kernel names them: resolved, no
 * symlinks). A file that is deleted while open reads as "path (deleted)" and never matches.
 */
export function openForWrite(paths: Iterable<string>, procRoot = '/proc'): OpenSweep {
  const want = new Set(paths);
  const out: OpenSweep = { writing: new Set(), processes: 0, descriptors: 0 };
  if (want.size === 0) return out;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`);
    } catch {
      continue; // ended while we looked, or not ours to inspect
    }
    out.processes++;
    for (const fd of fds) {
      out.descriptors++;
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!want.has(target) || out.writing.has(target)) continue;
      try {
        if (flagsWrite(readFileSync(`${procRoot}/${pid}/fdinfo/${fd}`, 'utf8'))) out.writing.add(target);
      } catch {
        // closed in between: not open any more
      }
    }
  }
  return out;
}
