// One agent per repository: .git/autosync/agent.pid, created with O_EXCL. A pid file whose process
// is gone (kill -9, a crash, a reboot) is stale and is taken over at once, never waited out. Reading
// a pid file and telling whether its agent lives is src/core/pidfile.ts (the CLI and the map read it too).
import { openSync, writeSync, closeSync, unlinkSync, existsSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import { isAlive, readPid, readPidFile, startTime } from '../core/pidfile.js';

export interface PidLock {
  path: string;
  /** True when a dead agent's lock was taken over: start-up runs crash recovery. */
  recovered: boolean;
  release(): void;
  /**
   * The pid file was removed while we run (a deleted .git/autosync): writes it again. 'ok' when it
   * names us already, 'restored' when it was written again, 'taken' when another live agent's pid
   * is in it now (a second start got in first).
   */
  reclaim(): 'ok' | 'restored' | 'taken';
}

function writeOwnPid(path: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${process.pid} ${startTime(process.pid) ?? ''}\n`);
  } finally {
    closeSync(fd);
  }
}

function reclaimPidLock(path: string): 'ok' | 'restored' | 'taken' {
  for (let attempt = 0; attempt < 3; attempt++) {
    const f = readPidFile(path);
    if (f?.pid === process.pid) return 'ok';
    if (f && isAlive(f.pid, f.start)) return 'taken';
    try {
      if (f || existsSync(path)) unlinkSync(path); // stale or unreadable
    } catch {
      // gone already
    }
    try {
      writeOwnPid(path);
      return 'restored';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // someone wrote it between our look and our write: look again
    }
  }
  return 'taken';
}

export function acquirePidLock(path: string): PidLock {
  let recovered = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeOwnPid(path);
      return {
        path,
        recovered,
        reclaim: () => reclaimPidLock(path),
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
      const f = readPidFile(path);
      const pid = f?.pid ?? null;
      if (f && pid !== process.pid && isAlive(f.pid, f.start)) {
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
