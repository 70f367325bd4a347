// The one schema of `git autosync status --json`: what a running agent answers (status/build.ts) and
// what the CLI fills in with no agent (status/offline.ts). Both give every key, so a script reads one
// schema; what only a running agent knows is empty or null without one, never a guess.
import type { ServiceStatus } from '../core/service.js';
import type { SignalStatus } from '../signal/types.js';
import type { TransferStatus } from '../transfer/service.js';

export type { ServiceStatus, SignalStatus, TransferStatus };

export interface RemoteStatus {
  name: string;
  lastPushOk: boolean | null;
  lastPushAt: string | null;
  paused: boolean;
  error: string | null;
  /** Commits on the branch that this remote's synced/<branch> and <branch> tracking refs lack
   * (0: it has everything we know of); null when unknown (never fetched from or pushed to). */
  ahead?: number | null;
  /** False when its path is on a drive that is not mounted (map/mounts.ts); true otherwise. */
  available?: boolean;
  /** The link cost: annex-cost, else git-annex's default for the remote's type (map/costs.ts);
   * null for a remote with neither a URL nor a special-remote type. */
  cost?: number | null;
}

/** A large file committed into git itself, not git-annex, and what to do about it. */
export interface LargeFileWarning {
  path: string;
  size: number;
  message: string;
}

export interface StatusJson {
  running: boolean;
  pid: number | null;
  repository: string;
  mode: 'git' | 'annex';
  branch: string;
  head: string | null;
  pendingChanges: number;
  /** What pendingChanges counts: 'all' (every path that differs from HEAD: a running agent's
   * count, and the offline one in trees up to 20,000 files), or 'staged' (with no agent, in a
   * larger tree: only what is staged; the work tree is not scanned, see status/offline.ts). */
  pendingCounted: 'all' | 'staged';
  /** The agent's first scan of the work tree (changes made while no agent ran) is under way. The
   * agent already syncs then: `running` is true and events are committed as usual. false with no
   * agent. */
  scanning: boolean;
  remotes: RemoteStatus[];
  signal: SignalStatus;
  /** Annexed content: queued and failed counts, the transfers under way. Zeros and [] in git mode. */
  transfers: TransferStatus;
  /** The agent's services; one that crashed shows its state and last error. [] with no agent. */
  services: ServiceStatus[];
  /** Paths git refuses to stage (inside a submodule, behind a symlink, unreadable), with the reason. */
  stuck: Array<{ path: string; error: string }>;
  errors: { commit: string | null; merge: string | null };
  /** The branch HEAD is on now: null while it is detached (a rebase, `git checkout <sha>`). */
  checkedOut: string | null;
  /** Large files committed into git itself, not git-annex, since the agent started (newest first,
   * at most 20), each with what to do about it. [] with no agent. */
  warnings: LargeFileWarning[];
  node: string;
  host: string;
  /** The network map as the agent knows it (interface.md: nodes, edges, stale), with each peer's
   * edge report, its age and whether it is stale (map/store.ts). Null with no agent, or without
   * XMPP in annex mode (nobody reports edges then: `map` reads them from the config). */
  map?: {
    nodes: number;
    edges: number;
    stale: number;
    peers: Array<{ node: string; repo: string; edges: number; ageSeconds: number; stale: boolean }>;
  } | null;
}

/** The transfers part with nothing to move (git mode, or no agent). */
export function noTransfers(): TransferStatus {
  return { queued: 0, active: [], failed: 0 };
}
