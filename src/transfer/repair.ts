// The repair of interrupted fills, run once by the agent before any service starts (and before any
// git-annex of ours clears othertmp). Waits on nothing; produces the files put back, and one warning.
import { annexTmpEntries, heldDeletions } from '../git/annex-replace.js';
import { mayBeMangled } from '../git/rawpaths.js';
import type { Runner } from '../git/runner.js';
import type { Logger } from '../core/log.js';

/** A replace directory in othertmp is named <name>.<n>; git-annex keeps logs there too. */
const REPLACE_DIR = /\.[0-9]+$/;

/**
 * A git-annex killed while it filled a file (a crash, a power cut: see annex-replace.ts) leaves the
 * file missing from the work tree and its replace directory in .git/annex/othertmp. Nothing would
 * put it back, and the first commit would delete it on every peer. Such files are written again from
 * the index: git-annex's smudge filter fills them from the local annex, or writes the pointer if the
 * content never arrived. A file the user deleted while the agent was down comes back only if
 * git-annex was filling a file of that name when it stopped. Never throws: a failure is a warning.
 */
export async function repairInterruptedFills(runner: Runner, gitDir: string, log: Logger): Promise<void> {
  try {
    const tmp = annexTmpEntries(gitDir);
    if (![...tmp.keys()].some((n) => REPLACE_DIR.test(n))) return;
    const r = await runner.git(['ls-files', '-d', '-z']);
    const missing = r.stdout.split('\0').filter((p) => p !== '' && !mayBeMangled(p));
    const paths = [...heldDeletions(missing, tmp, new Set()).keys()];
    if (paths.length === 0) return;
    // No -f: a file written since ls-files looked is the user's and is never overwritten (exit 1).
    await runner.git(['checkout-index', '-z', '--stdin'], { input: paths.join('\0'), okCodes: [1] });
    log.warn(
      { paths: paths.slice(0, 10), count: paths.length },
      'put back files git-annex was filling when it was stopped',
    );
  } catch (e) {
    log.warn({ err: String(e) }, 'could not check for files git-annex was filling when it stopped');
  }
}
