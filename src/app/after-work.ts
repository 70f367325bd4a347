// What follows a commit of ours (the committer's, or the one a merge made first) and a merge pass:
// waits on those commits and merges; produces a push request, the large-file warnings (logged, and
// kept for status), the count of files committed (the `sync` verb's report), and in annex mode the
// new keys and merged files for the transfers (annex-routing.ts).
import type { Runner } from '../git/runner.js';
import type { CommitResult, MergeResult } from '../git/sync.js';
import type { LargeFile } from '../git/large-files.js';
import type { Logger } from '../core/log.js';
import type { Wakeup } from '../core/queue.js';
import type { TransferService } from '../transfer/service.js';
import { filesAfterMerge, keysAfterCommit } from './annex-routing.js';

/** status lists at most this many large-file warnings (the newest). */
const MAX_WARNINGS = 20;

export interface AfterWorkDeps {
  runner: Runner;
  log: Logger;
  /** The pusher's requests. */
  pushWanted: Wakeup;
  /** The transfers, in annex mode (null in git mode). */
  transfers: TransferService | null;
}

export class AfterWork {
  /** Paths committed since start (every own commit), so `sync` can say what it committed. */
  private files = 0;
  /** Large files committed into git itself since the agent started (see git/large-files.ts). */
  private large: LargeFile[] = [];

  constructor(private readonly d: AfterWorkDeps) {}

  committed(c: CommitResult): void {
    this.files += c.added + c.modified + c.deleted;
    this.d.pushWanted.request();
    for (const f of c.large ?? []) {
      this.d.log.warn({ path: f.path, size: f.size, sha: c.sha }, f.message);
      // The newest first, one per path, bounded: status shows what to look at, not a history.
      this.large = [f, ...this.large.filter((x) => x.path !== f.path)].slice(0, MAX_WARNINGS);
    }
    const { transfers } = this.d;
    if (transfers) keysAfterCommit(this.d.runner, this.d.log, transfers, c);
  }

  /** Merges into the branch (before: where it was), or the location logs moved (annexMoved). */
  merged(merges: MergeResult[], annexMoved: boolean, before: string | null): void {
    this.d.pushWanted.request();
    const { transfers } = this.d;
    if (transfers) filesAfterMerge(this.d.runner, this.d.log, transfers, merges, annexMoved, before);
  }

  get filesCommitted(): number {
    return this.files;
  }

  get largeFiles(): LargeFile[] {
    return this.large;
  }
}
