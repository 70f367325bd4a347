// Pause state: the one home of .git/autosync/state.json (what the user paused, kept across restarts).
// Waits on `pause`/`resume` from the control verbs; produces the paused flags of the pusher (which
// remotes are pushed to and fetched from) and of the transfers, and the file, written atomically.
// A pause outlives a restart: the user asked for it, and only `resume` lifts it.
import { statePaths } from '../git/state-paths.js';
import { readJson } from '../git/repo.js';
import { writeJsonAtomic } from '../core/files.js';

/** The file's contents: every remote paused, or these ones. */
export interface SavedPause {
  all: boolean;
  remotes: string[];
}

/** Who obeys a pause: the pusher (pushes and fetches), and the transfers in annex mode. */
export interface PauseTargets {
  pusher: {
    setPaused(remote: string | null, paused: boolean): void;
    allStates(): Array<{ name: string; paused: boolean }>;
  };
  transfers: { pause(remote?: string): void; resume(remote?: string): void } | null;
}

/** The file's path; 0600 like everything under .git/autosync. */
export function pauseStatePath(stateDir: string): string {
  return statePaths(stateDir).state;
}

/** What was paused when the agent last ran (nothing when the file is missing or unreadable). */
export function readPauseState(stateDir: string): SavedPause {
  return readJson<SavedPause>(pauseStatePath(stateDir), { all: false, remotes: [] });
}

/** The pause or resume of one remote (null: all) applied to a saved state. Pure. */
export function withPause(st: SavedPause, remote: string | null, paused: boolean): SavedPause {
  if (remote === null) return { all: paused, remotes: paused ? st.remotes : [] };
  const remotes = st.remotes.filter((r) => r !== remote);
  if (paused) remotes.push(remote);
  return { all: st.all, remotes };
}

/**
 * Which remotes are paused now: one object shared by the pusher (which neither pushes to nor
 * fetches from them; it answers setPaused) and the merger (which skips their fetches). Built before
 * both, so neither needs the other to know.
 */
export class PausedRemotes {
  private readonly names = new Set<string>();

  has(remote: string): boolean {
    return this.names.has(remote);
  }

  set(remotes: string[], paused: boolean): void {
    for (const r of remotes) {
      if (paused) this.names.add(r);
      else this.names.delete(r);
    }
  }
}

export class PauseState {
  private readonly path: string;
  private readonly saved: SavedPause;

  constructor(
    stateDir: string,
    private readonly targets: PauseTargets,
  ) {
    this.path = pauseStatePath(stateDir);
    this.saved = readPauseState(stateDir);
  }

  /** Before the services start: the pusher takes the saved pauses (of remotes that still exist). */
  applyToPusher(remoteNames: string[]): void {
    if (this.saved.all) this.targets.pusher.setPaused(null, true);
    for (const r of this.saved.remotes) if (remoteNames.includes(r)) this.targets.pusher.setPaused(r, true);
  }

  /** Once the services run: the transfers take the saved pauses. */
  applyToTransfers(): void {
    if (this.saved.all) this.targets.transfers?.pause();
    for (const r of this.saved.remotes) this.targets.transfers?.pause(r);
  }

  /** `pause` / `resume` (remote null: all of them): applied now and saved for the next start. */
  set(remote: string | null, paused: boolean): void {
    this.targets.pusher.setPaused(remote, paused);
    this.save(remote, paused);
    if (paused) this.targets.transfers?.pause(remote ?? undefined);
    else this.targets.transfers?.resume(remote ?? undefined);
  }

  /** The state directory was removed: write the file again from the pauses in force. False: none. */
  restore(): boolean {
    const paused = this.targets.pusher.allStates().filter((s) => s.paused);
    for (const s of paused) this.save(s.name, true);
    return paused.length > 0;
  }

  private save(remote: string | null, paused: boolean): void {
    const st = readJson<SavedPause>(this.path, { all: false, remotes: [] });
    writeJsonAtomic(this.path, withPause(st, remote, paused), 0o600);
  }
}
