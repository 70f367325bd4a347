// The state directory put back: waits on the state watch's report that .git/autosync (or a file in
// it) is gone; produces the directory, the pid file, the socket, the key, the log and the pause
// state again, and one warning naming what was restored. Run by the agent, never concurrently.
import { mkdirSync, writeFileSync } from 'node:fs';
import { reopenLogFile, type Logger } from '../core/log.js';
import type { PidLock } from '../agent/lock.js';
import type { PauseState } from '../agent/pause.js';
import type { ControlServer } from '../control/server.js';
import { StateWatch, watchedStateFiles } from '../agent/state-watch.js';
import { background } from '../core/background.js';
import { STATE_FILES } from '../git/state-paths.js';

export interface RestoreDeps {
  stateDir: string;
  keyFile: string;
  /** The key file's bytes, read at start, to put back byte for byte. */
  keyBytes: Buffer | null;
  log: Logger;
  lock: Pick<PidLock, 'reclaim'>;
  control: Pick<ControlServer, 'inPlace' | 'restart'>;
  pause: Pick<PauseState, 'restore'>;
  /** True once the agent is stopping: nothing is put back then. */
  stopping: () => boolean;
  /** Stop the agent (another one took the repository). */
  stop: () => void;
  /** Watch the state directory again. */
  rearm: () => void;
}

/** The state watch of a running agent: what it reports gone is put back (restoreStateDir). */
export function restoringStateWatch(gitDir: string, d: Omit<RestoreDeps, 'rearm'>): StateWatch {
  const watch: StateWatch = new StateWatch({
    gitDir,
    stateDir: d.stateDir,
    names: watchedStateFiles(d.stateDir, d.keyFile),
    onGone: (missing) =>
      background(
        restoreStateDir({ ...d, rearm: () => watch.rearm() }, missing),
        d.log,
        'restoring the state directory',
      ),
  });
  return watch;
}

/**
 * .git/autosync (or a file in it) was removed while we run. Everything others find a running
 * agent by is put back: the directory (0700), the pid file, the control socket, the key (the
 * same bytes, from memory), the log and the pause state; then one warning says what was restored.
 * If another agent has taken the repository in the meantime (its pid is in the pid file), this
 * one stops: two agents on one repository is worse than one.
 */
export async function restoreStateDir(d: RestoreDeps, missing: string[]): Promise<void> {
  if (d.stopping()) return;
  const restored: string[] = [];
  try {
    const dir = d.stateDir;
    if (missing.includes(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      restored.push(dir);
    }
    const lock = d.lock.reclaim();
    if (lock === 'taken') {
      d.log.error('another agent took over this repository while its state directory was gone; stopping');
      d.stop();
      return;
    }
    if (lock === 'restored') restored.push(STATE_FILES.pid);
    if (d.keyBytes) {
      try {
        writeFileSync(d.keyFile, d.keyBytes, { mode: 0o600, flag: 'wx' });
        restored.push('key');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    if (missing.some((m) => m === dir || m.endsWith(`/${STATE_FILES.log}`))) {
      reopenLogFile(d.log);
      restored.push(STATE_FILES.log);
    }
    if (!d.control.inPlace) {
      await d.control.restart();
      restored.push(STATE_FILES.sock);
    }
    if (missing.includes(dir) && d.pause.restore()) restored.push(STATE_FILES.state);
    d.log.warn(
      { missing, restored },
      'the state directory was removed while the agent ran; put back what it needs',
    );
  } catch (e) {
    d.log.error({ err: String(e), restored }, 'could not restore the state directory');
  } finally {
    d.rearm();
  }
}
