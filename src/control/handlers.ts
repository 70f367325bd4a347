// The control verbs of a running agent: waits on one request of the control server at a time (the
// server calls handleControl once per request line); produces the answer, and the work the verb asks
// for, handed to the service that owns it (the pause state, the merger's queue, the pusher, the
// transfers). Nothing here keeps state of its own.
import type { ControlRequest } from './types.js';
import type { Committer } from '../agent/committer.js';
import type { Merger } from '../agent/merger.js';
import type { Pusher } from '../agent/pusher.js';
import type { PauseState } from '../agent/pause.js';
import type { GitSync } from '../git/sync.js';
import type { TransferService } from '../transfer/service.js';
import type { StatusJson } from '../status/types.js';
import type { PeerReport } from '../map/store.js';

/** What the handlers ask; the composition root (app/Agent.ts) builds it once. */
export interface ControlDeps {
  status: () => Promise<StatusJson>;
  /** Ask the agent to stop; called once the answer is on its way. */
  stop: () => void;
  remoteNames: () => string[];
  pause: Pick<PauseState, 'set'>;
  committer: Pick<Committer, 'flush'>;
  sync: Pick<GitSync, 'head'>;
  merger: Pick<Merger, 'requestFetch' | 'fetchAndMerge' | 'fetchErrors'>;
  pusher: Pick<Pusher, 'state' | 'pushAll'>;
  transfers: Pick<TransferService, 'cancel'> | null;
  /** Paths committed since start (every own commit), so `sync` can say what it committed. */
  filesCommitted: () => number;
  /** The peers' edge reports (app/map-service.ts); null without XMPP or outside annex mode. */
  map: { reports(): { reports: PeerReport[]; staleMs: number } } | null;
}

export async function handleControl(d: ControlDeps, req: ControlRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'status':
      return d.status();
    case 'stop':
      setImmediate(d.stop);
      return { stopping: true };
    case 'pause':
    case 'resume': {
      const paused = req.cmd === 'pause';
      if (req.remote && !d.remoteNames().includes(req.remote)) {
        throw new Error(`no remote named '${req.remote}'`);
      }
      d.pause.set(req.remote ?? null, paused);
      return { paused, remote: req.remote ?? null };
    }
    case 'notify': {
      const known = d.remoteNames();
      d.merger.requestFetch(req.remotes?.filter((r) => known.includes(r)));
      return { fetching: true };
    }
    case 'cancel':
      if (!d.transfers) throw new Error('no transfers: this is not a git-annex repository');
      d.transfers.cancel(req.key);
      return { cancelled: req.key };
    case 'flush':
      await d.committer.flush();
      return { head: await d.sync.head() };
    case 'sync':
      return syncNow(d, Boolean(req.report));
    case 'map':
      return d.map?.reports() ?? { reports: [], staleMs: 0 };
    default:
      throw new Error('unknown command');
  }
}

/** `sync`: commit what is pending, fetch and merge every remote not paused, push, and report. */
async function syncNow(d: ControlDeps, report: boolean): Promise<unknown> {
  const before = d.filesCommitted();
  await d.committer.flush();
  // Paths committed while this sync flushed (by the flush, or by a commit pass it joined).
  const committed = d.filesCommitted() - before;
  for (const r of d.remoteNames()) if (!d.pusher.state(r).paused) await d.merger.fetchAndMerge(r);
  const outcome = await d.pusher.pushAll();
  // A remote we could push to but not fetch from is not in sync either: `sync` says so (exit
  // 1), instead of reporting success with its changes left behind.
  for (const [r, err] of outcome) {
    const fetchErr = d.merger.fetchErrors.get(r);
    if (!err && fetchErr) outcome.set(r, `fetch failed: ${fetchErr}`);
  }
  // A CLI of the same version asks for the report; an older one reads the remotes alone.
  if (!report) return Object.fromEntries(outcome);
  const paused = d.remoteNames().filter((r) => d.pusher.state(r).paused);
  return { remotes: Object.fromEntries(outcome), committed, paused };
}
