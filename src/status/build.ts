// The status of a running agent: waits on nothing but the services' own state (read, never asked to
// do work) and two quick git reads (the head, each remote's "ahead" count); produces the StatusJson
// that the control verb `status` answers with.
import { hostname } from 'node:os';
import { checkedOutBranch, nodeId, type RepoInfo } from '../git/repo.js';
import type { GitSync } from '../git/sync.js';
import type { Committer } from '../agent/committer.js';
import type { Merger } from '../agent/merger.js';
import type { Pusher } from '../agent/pusher.js';
import type { Supervisor } from '../core/service.js';
import type { SignalTransport } from '../signal/types.js';
import type { TransferService } from '../transfer/service.js';
import type { LargeFile } from '../git/large-files.js';
import { Runner } from '../git/runner.js';
import { remoteLinkFacts } from '../map/read.js';
import { noTransfers, type StatusJson } from './types.js';

/** What a running agent's status is read from. */
export interface StatusSources {
  info: RepoInfo;
  sync: Pick<GitSync, 'head' | 'ahead'>;
  committer: Pick<Committer, 'pendingCount' | 'stuckPaths' | 'lastError' | 'scanning'>;
  merger: Pick<Merger, 'fetchErrors' | 'lastError'>;
  pusher: Pick<Pusher, 'allStates'>;
  signal: Pick<SignalTransport, 'status'>;
  transfers: Pick<TransferService, 'status'> | null;
  supervisor: Pick<Supervisor, 'statuses'>;
  /** The large-file warnings kept since start (newest first). */
  largeFiles: () => readonly LargeFile[];
  /** The mount watcher (agent/mounts.ts): whether each remote can be used now. Absent: read from
   * the remote's path at each status, as the offline status does. */
  mounts?: { isAvailable(remote: string): boolean };
  /** The network map service (app/map-service.ts), when there is one. */
  map?: { status(): NonNullable<StatusJson['map']> } | null;
}

export async function buildStatus(s: StatusSources): Promise<StatusJson> {
  const states = s.pusher.allStates();
  const ahead = await Promise.all(states.map((r) => s.sync.ahead(r.name)));
  // One `git config` read: each remote's cost, and its availability where no watcher says it.
  const links = await remoteLinkFacts(new Runner(s.info.workTree), s.info.workTree);
  return {
    running: true,
    pid: process.pid,
    repository: s.info.workTree,
    mode: s.info.mode,
    branch: s.info.branch,
    head: await s.sync.head(),
    pendingChanges: s.committer.pendingCount,
    pendingCounted: 'all',
    scanning: s.committer.scanning,
    remotes: states.map((r, i) => ({
      name: r.name,
      lastPushOk: r.lastPushOk,
      lastPushAt: r.lastPushAt,
      paused: r.paused,
      error: r.error ?? s.merger.fetchErrors.get(r.name) ?? null,
      ahead: ahead[i] ?? null,
      available: s.mounts ? s.mounts.isAvailable(r.name) : (links.get(r.name)?.available ?? true),
      cost: links.get(r.name)?.cost ?? null,
    })),
    signal: s.signal.status(),
    transfers: s.transfers?.status() ?? noTransfers(),
    services: s.supervisor.statuses(),
    stuck: s.committer.stuckPaths(),
    // Why work is waiting, e.g. "a merge is in progress; syncing waits until you finish it".
    errors: { commit: s.committer.lastError, merge: s.merger.lastError },
    // Read from .git/HEAD, not asked of git: it works mid-rebase, and a status never waits on a lock.
    checkedOut: checkedOutBranch(s.info.gitDir),
    warnings: s.largeFiles().map((f) => ({ path: f.path, size: f.size, message: f.message })),
    node: nodeId(s.info),
    host: hostname(),
    map: s.map?.status() ?? null,
  };
}
