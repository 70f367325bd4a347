// The agent's pid file, read: `<pid> <start time>` in .git/autosync/agent.pid, and whether the
// process it names still runs (and is the same process, not a recycled pid). Only reads: taking and
// releasing the lock is src/agent/lock.ts. Here, low in the layers, because the CLI (status, stop) and
// the network map (is a local peer's agent running?) ask too.
import { readFileSync } from 'node:fs';

/** The pid in the file, or null. The file holds `<pid> <start time>` (older files: `<pid>`). */
export function readPid(path: string): number | null {
  return readPidFile(path)?.pid ?? null;
}

export function readPidFile(path: string): { pid: number; start: string | null } | null {
  try {
    const [p, start] = readFileSync(path, 'utf8').trim().split(/\s+/);
    const pid = Number(p);
    return Number.isInteger(pid) && pid > 0 ? { pid, start: start ?? null } : null;
  } catch {
    return null;
  }
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function startTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

/** The fields of /proc/<pid>/stat after the command name (state first), or null. */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * Whether the agent that wrote the pid file still runs. The same pid with another start time is a
 * recycled pid that now belongs to some other program: never ours to wait for or to signal. A
 * zombie (state Z: it has exited, and its parent has not collected it yet) has stopped: `stop`
 * waited its whole 120 s on an agent whose parent was busy.
 */
export function isAlive(pid: number, start?: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (stat && (stat[0] === 'Z' || stat[0] === 'X')) return false;
  if (!start) return true;
  const now = stat?.[19] ?? null;
  return now === null || now === start;
}

/** Whether the agent recorded in this pid file runs. */
export function agentAlive(path: string): { pid: number } | null {
  const f = readPidFile(path);
  return f && isAlive(f.pid, f.start) ? { pid: f.pid } : null;
}
