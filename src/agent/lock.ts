// One agent per repository: .git/autosync/agent.pid, created with O_EXCL. A pid file whose process
// is gone (kill -9, a crash, a reboot) is stale and is taken over at once, never waited out.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { UserError } from '../git/errors.js';

export interface PidLock {
  path: string;
  /** True when a dead agent's lock was taken over: start-up runs crash recovery. */
  recovered: boolean;
  release(): void;
}

export function readPid(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A recycled pid that now belongs to another program does not hold our lock.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /autosync|node/.test(cmd);
  } catch {
    return true;
  }
}

export function acquirePidLock(path: string): PidLock {
  let recovered = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        path,
        recovered,
        release: () => {
          if (readPid(path) === process.pid) {
            try {
              unlinkSync(path);
            } catch {
              // already gone
            }
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = readPid(path);
      if (pid !== null && pid !== process.pid && isAlive(pid)) {
        throw new UserError(
          `an agent is already running for this repository (pid ${pid}); use 'git autosync stop' first`,
          1,
        );
      }
      recovered = true;
      try {
        unlinkSync(path);
      } catch {
        // another starter removed it first; the next open decides
      }
    }
  }
  throw new UserError('could not take the agent lock (another agent is starting?); try again', 1);
}
