// The refs watch of a running agent: what it signals goes to the merger (refs pushed into this
// clone or into a local bare remote), the pusher (a commit made by hand) and the committer (a
// submodule's new commit). Waits on nothing of its own; produces the RefsWatch service.
import type { GitSync } from '../git/sync.js';
import type { RepoInfo } from '../git/repo.js';
import type { Logger } from '../core/log.js';
import type { Wakeup } from '../core/queue.js';
import type { Committer } from '../agent/committer.js';
import type { Merger } from '../agent/merger.js';
import { RefsWatch } from '../signal/refs-watch.js';
import { RemotePoll, pollTargets } from '../agent/remote-poll.js';
import type { LiveConfig, RemoteList } from './live.js';

export interface LocalRefsWatchDeps {
  info: RepoInfo;
  log: Logger;
  sync: Pick<GitSync, 'submodules'>;
  live: LiveConfig;
  remotes: RemoteList;
  merger: Pick<Merger, 'requestMerge' | 'requestFetch'>;
  committer: Pick<Committer, 'note'>;
  pushWanted: Wakeup;
}

export function localRefsWatch(d: LocalRefsWatchDeps): RefsWatch {
  return new RefsWatch({
    gitDir: d.info.gitDir,
    workTree: d.info.workTree,
    branch: d.info.branch,
    remotes: () => (d.live.config.watchRemotes ? d.remotes.list : []),
    onLocalRefs: () => d.merger.requestMerge(),
    onRemoteRefs: (r) => d.merger.requestFetch([r]),
    // A commit made by hand (or a reset) moves the branch without telling the committer: it is a
    // change to push all the same. needsPush compares with the tracking refs, so the agent's own
    // commits (already pushed or about to be) cost one for-each-ref per remote, and nothing loops.
    onBranchMoved: () => d.pushWanted.request(),
    // A commit inside a submodule is a new gitlink here: the committer records it (GitSync.gitlinks).
    submodules: () => d.sync.submodules(),
    onSubmoduleMoved: (path) => d.committer.note(path),
    log: d.log,
  });
}

/** Network remotes that nothing else signals (XMPP off) are fetched now and then (agent/remote-poll.ts). */
export function networkPoll(
  d: Pick<LocalRefsWatchDeps, 'live' | 'remotes'> & { merger: Pick<Merger, 'requestFetch'> },
): RemotePoll {
  return new RemotePoll({
    periodMs: d.live.config.pollMs,
    targets: () => pollTargets(d.remotes.list, d.live.config.xmpp.jid !== null),
    requestFetch: (r) => d.merger.requestFetch(r),
  });
}
