// The work tree's watching: the watcher (one kernel watch per folder) and, should the kernel run out
// of watches, the scan poll that takes over from it. Both feed the committer.
import type { Logger } from '../core/log.js';
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import type { Committer } from '../agent/committer.js';
import { Watcher, maxWatchesFromEnv } from '../agent/watcher.js';
import { ScanPoll } from '../agent/scan-poll.js';
import { statFrom } from '../agent/committer-raw.js';

export interface TreeWatchDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
  committer: Pick<Committer, 'note' | 'noteDir'>;
}

export function treeWatch(d: TreeWatchDeps): { watcher: Watcher; scanPoll: ScanPoll } {
  // Idle until the watcher runs out of kernel watches; then the tree is scanned every few seconds.
  const scanPoll = new ScanPoll({ scan: () => d.committer.noteDir('') });
  const watcher = new Watcher({
    workTree: d.info.workTree,
    runner: d.runner,
    log: d.log,
    // The event's lstat goes with it: the committer takes no second one (watcher.ts).
    onChange: (p, st) => d.committer.note(p, undefined, statFrom(st)),
    scanDir: (dir) => d.committer.noteDir(dir),
    onWatchLimit: () => scanPoll.activate(),
    maxWatches: maxWatchesFromEnv(),
  });
  return { watcher, scanPoll };
}
