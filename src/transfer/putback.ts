// Putting back work-tree files that a git-annex lane left missing when it ended mid-download.
//
// Waits on: putBack(file) from the worker pool (workers.ts), when a lane died or was killed while
//   its head entry was a download (outcome.ts `putBackAfter` decides which entry that was).
// Produces: the file written again from the index (`git checkout-index`, no -f), a warning in the
//   log either way, and, until that is done, the file in `filling()`, so the committer holds its
//   deletion.
//
// git-annex had moved the content into the annex and unlinked the pointer file, and died before
// renaming the content in. Nothing else puts such a file back (the othertmp copy is cleared by the
// next git-annex to run), and the next commit recorded it as deleted on every peer (seen at the stop
// of `demo --annex`: a small file reports no progress, so the pool cannot tell its bytes are in).
// git-annex's smudge filter fills it from the local annex, or writes the pointer if the content
// never arrived, as the start-up repair does (repair.ts).
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { isSafeRelPath } from '../annex/keys.js';
import { runProcess } from '../git/runner.js';

export class PutBacks {
  /** Files being put back now: they count as being filled. */
  private readonly files = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repoDir: string,
    private readonly log: Logger,
  ) {}

  /** Files being put back now. */
  filling(): ReadonlySet<string> {
    return this.files;
  }

  /** Resolves when every put-back started so far (and any started meanwhile) is done. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Writes `file` again from the index if it is missing (a no-op if it is there, or unsafe). */
  putBack(file: string): void {
    if (!isSafeRelPath(file) || this.files.has(file)) return;
    const abs = join(this.repoDir, file);
    if (existsNoFollow(abs)) return;
    this.files.add(file);
    // No -f: a file that appeared since the check above (the user wrote it) is never overwritten.
    const done: Promise<void> = runProcess('git', ['checkout-index', '-z', '--stdin'], {
      cwd: this.repoDir,
      input: file + '\0',
      okCodes: [1],
    })
      .then((r) => {
        if (existsNoFollow(abs))
          this.log.warn({ path: file }, 'put back a file git-annex was filling when its lane ended');
        else
          this.log.warn(
            { path: file, err: r.stderr.trim() },
            'could not put back a file git-annex was filling',
          );
      })
      .catch((e: unknown) =>
        this.log.warn({ path: file, err: String(e) }, 'could not put back a file git-annex was filling'),
      )
      .finally(() => {
        this.files.delete(file);
        this.pending.delete(done);
      });
    this.pending.add(done);
  }
}

function existsNoFollow(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}
