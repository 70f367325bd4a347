// What a commit or a merge hands on to the transfers (annex mode). Waits on a commit (the
// committer's, or one made before a merge) or on merges into the branch; produces the keys and files
// the transfer service plans at once, or a scan when they cannot be listed.
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import type { CommitResult, MergeResult } from '../git/sync.js';
import { annexTmpEntries, heldDeletions } from '../git/annex-replace.js';
import type { Logger } from '../core/log.js';
import type { EventBus } from '../core/bus.js';
import type { Wakeup } from '../core/queue.js';
import type { OwnWrites } from '../agent/committer-own.js';
import { annexedInRange } from '../transfer/commitkeys.js';
import { TransferService, type TreeRouting } from '../transfer/service.js';

export interface AnnexTransfersDeps {
  runner: Runner;
  info: RepoInfo;
  log: Logger;
  bus: EventBus;
  /** autosync.transferSlots at start (the reload changes it with setSlots). */
  slots: number;
  pushWanted: Wakeup;
  /** The committer's record of own writes, built before both (committer-own.ts). */
  ownWrites: Pick<OwnWrites, 'filled'>;
  /** Tree routing (app/map-service.ts, built before the transfers); null: flood. */
  routing: TreeRouting | null;
}

/** The transfer service of an annex-mode agent (null in git mode), wired to the pusher's requests
 * and to the record of own writes the committer reads. */
export function annexTransfers(d: AnnexTransfersDeps): TransferService | null {
  if (d.info.mode !== 'annex') return null;
  const t = new TransferService({
    runner: d.runner,
    repoDir: d.info.workTree,
    autosyncDir: d.info.stateDir,
    log: d.log,
    bus: d.bus,
    slots: d.slots,
    // Content moved and git-annex logged where it is now: push the git-annex branch, which also
    // signals the peers.
    onLocationsChanged: () => d.pushWanted.request(),
    // git-annex filled a file with its content: not an edit to commit (see OwnWrites.filled).
    onDownloaded: (file, size) => d.ownWrites.filled(file, size),
    routing: () => d.routing,
  });
  return t;
}

/**
 * The committer's holdDeletions in annex mode: git-annex unlinks a file before it fills it with
 * content, and that absence is not a deletion. The transfers are built before the committer; until
 * they start, no lane is filling anything.
 */
export function annexHeldDeletions(
  info: RepoInfo,
  transfers: Pick<TransferService, 'fillingFiles'>,
): (paths: string[]) => Map<string, string> {
  return (paths) => heldDeletions(paths, annexTmpEntries(info.gitDir), transfers.fillingFiles());
}

type Transfers = Pick<TransferService, 'enqueueKeys' | 'requestScan' | 'afterMerge'>;

/**
 * Newly annexed keys go straight to the transfer queue; a scan is the fallback if that fails.
 * With the paths, only the committed files are checked against preferred content, not the tree.
 */
export function keysAfterCommit(runner: Runner, log: Logger, transfers: Transfers, c: CommitResult): void {
  annexedInRange(runner, c.parent, c.sha).then(
    (found) =>
      transfers.enqueueKeys(
        found.map((f) => f.key),
        found.map((f) => f.path),
      ),
    (e: unknown) => {
      log.warn({ err: String(e) }, 'could not list the new keys of a commit; scanning instead');
      transfers.requestScan();
    },
  );
}

/**
 * Files that arrived without their content: plan just those files, at once (this is the path of a
 * change to its content on the peer). Content that arrived somewhere we can fetch it from, or a
 * bridge copy that may be droppable, is a whole-tree question, asked at a bounded rate (a burst
 * moves the location logs dozens of times).
 */
export function filesAfterMerge(
  runner: Runner,
  log: Logger,
  transfers: Transfers,
  merges: MergeResult[],
  annexMoved: boolean,
  before: string | null,
): void {
  const head = merges[merges.length - 1]?.head;
  if (head && before === null)
    transfers.requestScan(); // a first checkout: the whole tree is new
  else if (head && before !== null) {
    annexedInRange(runner, before, head).then(
      (found) =>
        transfers.afterMerge(
          found.map((f) => f.path),
          annexMoved,
        ),
      (e: unknown) => {
        log.warn({ err: String(e) }, 'could not list the merged annexed files; scanning instead');
        transfers.requestScan();
      },
    );
  } else if (annexMoved) transfers.afterMerge([], true);
}
