// The two facts the agent changes while it runs, each in one object created before the services
// that read it: the settings in use (LiveConfig) and the remotes (RemoteList). Their one writer is
// the reload (app/reload.ts); every reader holds the object and reads it at the moment it needs it.
import type { AgentConfig } from '../agent/config.js';
import type { CommitSettings } from '../git/sync.js';
import { ignoreMatcher } from '../git/transient.js';

/** The settings in use. Only the live keys (agent/config-watch.ts LIVE_KEYS) ever change. */
export class LiveConfig {
  private current: AgentConfig;
  private commit: CommitSettings;

  constructor(config: AgentConfig) {
    this.current = config;
    this.commit = commitSettingsOf(config);
  }

  get config(): AgentConfig {
    return this.current;
  }

  /** What every commit reads (GitSync's settings): the temporary-file rules, the large-file size. */
  commitSettings(): CommitSettings {
    return this.commit;
  }

  /** The reload's one write: the live keys of next replace those in use. */
  applyLive(next: AgentConfig): void {
    this.current = {
      ...this.current,
      notifyCommand: next.notifyCommand,
      watchRemotes: next.watchRemotes,
      retryMaxMs: next.retryMaxMs,
      pollMs: next.pollMs,
      transferSlots: next.transferSlots,
      largeFileWarning: next.largeFileWarning,
      ignore: next.ignore,
    };
    this.commit = commitSettingsOf(this.current);
  }
}

function commitSettingsOf(c: AgentConfig): CommitSettings {
  return { ignore: ignoreMatcher(c.ignore), largeFileWarning: c.largeFileWarning };
}

export interface RemoteEntry {
  name: string;
  url: string;
}

/** The remotes in the git config, as last read (at start, then by the reload). */
export class RemoteList {
  list: RemoteEntry[] = [];

  names(): string[] {
    return this.list.map((r) => r.name);
  }
}
