// Drives, as pure functions (table tests in test/unit/map/mounts.test.ts): reading
// /proc/self/mountinfo, the difference between two readings by mount ID, the mount a path lies on,
// and whether a remote on a local path can be used now. The watcher that reads and rereads is
// agent/mounts.ts.
//
// A remote on a drive that is not mounted is "not available", not "failing": its path is missing,
// or it is the bare mount-point directory, which holds no repository. Nothing may ever be written
// there (it would fill the root filesystem, and hide under the drive once it is mounted again), so
// availability asks for the repository itself, never for the directory alone.
import { dirname, join } from 'node:path';

export interface MountEntry {
  /** The mount ID: unique while mounted; a remount is a new ID. */
  id: number;
  parentId: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as three octal digits (`\040`). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parses /proc/self/mountinfo (proc(5)): `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS`. A line that does not have that shape is skipped.
 */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0 || dash + 2 >= f.length) continue;
    const id = Number(f[0]);
    const parentId = Number(f[1]);
    if (!Number.isInteger(id) || !Number.isInteger(parentId) || !f[4]?.startsWith('/')) continue;
    out.push({
      id,
      parentId,
      mountPoint: unescapeOctal(f[4]),
      fsType: f[dash + 1]!,
      source: unescapeOctal(f[dash + 2]!),
    });
  }
  return out;
}

export interface MountDiff {
  added: MountEntry[];
  removed: MountEntry[];
}

/** What changed between two readings, by mount ID; a mount moved elsewhere is removed and added. */
export function diffMounts(before: readonly MountEntry[], after: readonly MountEntry[]): MountDiff {
  const key = (m: MountEntry) => `${m.id}\0${m.mountPoint}`;
  const was = new Set(before.map(key));
  const now = new Set(after.map(key));
  return { added: after.filter((m) => !was.has(key(m))), removed: before.filter((m) => !now.has(key(m))) };
}

/** Whether `path` is `dir` or lies under it (both absolute, normalised). */
export function isUnder(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * The mount `path` lies on: the one with the longest mount point above it; of several on the same
 * point (stacked), the last in mountinfo, which is the one on top. Null when none (not absolute).
 */
export function mountOf(path: string, mounts: readonly MountEntry[]): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of mounts) {
    if (!isUnder(path, m.mountPoint)) continue;
    if (best === null || m.mountPoint.length >= best.mountPoint.length) best = m;
  }
  return best;
}

/** The few questions availability asks of the filesystem (a fake in tests). */
export interface FsProbe {
  exists(path: string): boolean;
  /** A directory with entries in it (false for a missing path, a file, an empty directory). */
  hasEntries(path: string): boolean;
}

export type LocalRemoteKind = 'git' | 'directory';

/** Where desktops and admins mount removable drives (udisks2: /media, /run/media; by hand: /mnt). */
const REMOVABLE_ROOTS = ['/media', '/run/media', '/mnt'];

/**
 * A remote on a local path can be used now. A git remote: its repository is there (a `.git` in a
 * work tree, or `HEAD` in a bare one), not merely the directory. A directory special remote: the
 * directory is there, and is not an empty directory under a removable-media root with nothing
 * mounted on or above it below that root: that is a mount point whose drive is out. (A directory
 * remote that is empty because it never stored anything, anywhere else, is available.)
 */
export function localRemoteAvailable(
  kind: LocalRemoteKind,
  path: string,
  fs: FsProbe,
  mounts: readonly MountEntry[],
): boolean {
  if (kind === 'git') {
    if (fs.exists(join(path, 'HEAD')) || fs.exists(join(path, '.git'))) return true;
    // Not there. A drive that is out leaves its mount point behind: an empty directory, or a folder
    // under a removable-media root with nothing mounted below that root. Anything else (a path
    // mistyped, or a clone deleted, inside a folder that holds other things) is no drive: that
    // remote fails like any unreachable one, and status shows the failure.
    let near = path;
    while (!fs.exists(near)) {
      const up = dirname(near);
      if (up === near) return false;
      near = up;
    }
    if (!fs.hasEntries(near)) return false;
    const root = REMOVABLE_ROOTS.find((r) => near === r || isUnder(near, r));
    if (root === undefined) return true;
    const m = mountOf(near, mounts);
    return m !== null && m.mountPoint.length > root.length;
  }
  if (!fs.exists(path)) return false;
  if (fs.hasEntries(path)) return true;
  const root = REMOVABLE_ROOTS.find((r) => isUnder(path, r) && path !== r);
  if (root === undefined) return true;
  const m = mountOf(path, mounts);
  // Something is mounted between the removable root and the path (or on the path): the drive is in.
  return m !== null && m.mountPoint.length > root.length;
}

export interface AvailabilityChange {
  remote: string;
  available: boolean;
}

/** The remotes whose availability changed between two checks; a remote seen first counts as changed. */
export function availabilityChanges(
  before: ReadonlyMap<string, boolean>,
  after: ReadonlyMap<string, boolean>,
): AvailabilityChange[] {
  const out: AvailabilityChange[] = [];
  for (const [remote, available] of [...after].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (before.get(remote) !== available) out.push({ remote, available });
  }
  return out;
}
