// The agent's own files under .git/autosync/: the one home of their names. Inside .git so git never
// sees them as work-tree content and every clone (and worktree-less tool) finds them by the git
// directory alone; the directory is 0700 (repo.ts ensureStateDir).
import { join } from 'node:path';

/** The state directory's name inside the git directory. */
export const STATE_DIR_NAME = 'autosync';

/** Each file's (or directory's) name inside the state directory. */
export const STATE_FILES = {
  /** The running agent's pid: the lock (agent/lock.ts) and how the CLI and peers find it. */
  pid: 'agent.pid',
  /** The agent's JSON log lines (core/log.ts), 0600. */
  log: 'agent.log',
  /** A daemonized agent's stdout and stderr (cli start), 0600. */
  out: 'agent.out',
  /** The control socket the CLI talks to (control/), 0600. */
  sock: 'control.sock',
  /** The repository key that signs signals, unless autosync.keyFile names another place. */
  key: 'key',
  /** What survives a restart: pause state. */
  state: 'state.json',
  /** The transfer queue (transfer/queue.ts). */
  transfers: 'transfers.json',
  /** The XMPP password the init wizard keeps, 0600. */
  xmppPassword: 'xmpp-password',
  /** Ignored files a fast-forward had to move out of its way, one folder per time stamp. */
  displaced: 'displaced',
  /** Marks a merge in progress as the agent's own (left by versions before 0.2; see sync.ts). */
  merging: 'merging',
} as const;

export type StatePaths = { readonly [K in keyof typeof STATE_FILES]: string } & { readonly dir: string };

/** The state directory of a git directory (`<gitDir>/autosync`). */
export function stateDirOf(gitDir: string): string {
  return join(gitDir, STATE_DIR_NAME);
}

/** Every path under the state directory `stateDir`. Pure. */
export function statePaths(stateDir: string): StatePaths {
  const out: Record<string, string> = { dir: stateDir };
  for (const [k, name] of Object.entries(STATE_FILES)) out[k] = join(stateDir, name);
  return out as StatePaths;
}
