// A burst of new annexed files on one clone, arriving on the others while they also commit, merge
// and stop: no clone may ever commit a deletion of those files. git-annex fills each arriving file
// by unlinking its pointer and renaming the content in. Seen in `demo --annex` after its 200-file
// burst: a stop killed the lane in that gap (a small file reports no progress, so the lane could not
// tell its bytes were in), the file stayed missing, and the stop's commit deleted it on every peer.
// A commit that stats a file before that gap and stages it inside it, or the commit a merge makes
// first (which did not ask about fills at all), recorded the same deletion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { git, read, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';

const N = 200;
const body = (i: number) => `item ${i}\n`;

/** Every deletion a commit of `repo`'s branches records (every ref but git-annex's own branch,
 * where git-annex removes log files as it goes), as "sha subject" and "path" lines. */
function deletions(repo: string): string[] {
  const refs = git(repo, 'for-each-ref', '--format=%(refname)')
    .split('\n')
    .filter((r) => r !== '' && !r.endsWith('/git-annex'));
  return git(repo, 'log', '--diff-filter=D', '--name-only', '--format=%h %s', ...refs, '--')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** The burst's files in `repo` that do not have their content yet, and what they hold. */
function notArrived(repo: string): string {
  const out: string[] = [];
  for (let i = 0; i < N; i++) {
    const text = read(repo, `lists/item-${i}.txt`);
    if (text !== body(i)) out.push(`item-${i}: ${text === null ? 'missing' : text.slice(0, 40)}`);
  }
  return out.slice(0, 5).join('; ');
}

/** How many of the burst's files have their content in `repo` (not a pointer, not missing). */
function arrived(repo: string): number {
  let n = 0;
  for (let i = 0; i < N; i++) if (read(repo, `lists/item-${i}.txt`) === body(i)) n++;
  return n;
}

// A stress run, not part of `npm test` (set GIT_AUTOSYNC_STRESS=1 to run it): about one run in six
// it ends with one file whose content is in the receiver's annex while its work-tree file still
// holds the pointer (an open bug, not a deletion: see docs/transfers.md, Known limits). The deletion
// fixes it exercises are pinned by deterministic tests (engine-annex-fills, transfer-putback and the
// committer's hold tests); a test that fails by chance would only hide them.
const STRESS = process.env.GIT_AUTOSYNC_STRESS === '1';

test(
  'a 200-file annex burst reaches every clone, through edits, merges and stops, with no deletion committed',
  { timeout: 300_000, skip: STRESS ? false : 'stress run: set GIT_AUTOSYNC_STRESS=1' },
  async (t) => {
    const topo = using(t, (root) => cloud(root, ['laptop', 'desktop', 'server'], { annex: true }));
    const [laptop, desktop, server] = topo.clones as [string, string, string];
    const [laptopAgent] = topo.agents;
    await topo.startAll();
    for (let i = 0; i < N; i++) write(server, `lists/item-${i}.txt`, body(i));
    // While the content arrives: desktop edits (its commits, and the merges of them on laptop,
    // run while git-annex fills the burst's files), and laptop's agent is stopped and started
    // again a few times, each stop cutting its download lanes short.
    let stops = 0;
    let edits = 0;
    let polls = 0;
    const deleted = () => [...topo.clones, topo.cloud!].flatMap((r) => deletions(r).map((l) => `${r}: ${l}`));
    // Done when every item has arrived, or as soon as any clone has committed a deletion (a deleted
    // item then never arrives: it is gone everywhere).
    const found = await waitFor(
      async () => {
        if (++polls % 5 === 0) {
          const d = deleted();
          if (d.length > 0) return d;
        }
        const got = arrived(laptop);
        write(desktop, 'plan.txt', `desktop ${++edits}\n`);
        if (got > 0 && got < N && stops < 4 && got > stops * 40) {
          stops++;
          await laptopAgent!.stop();
          await laptopAgent!.start();
        }
        return arrived(laptop) === N && arrived(desktop) === N ? deleted() : null;
      },
      {
        what: () =>
          `every item with its content on laptop (${arrived(laptop)}: ${notArrived(laptop)}) and desktop ` +
          `(${arrived(desktop)}: ${notArrived(desktop)}), laptop stopped ${stops} times`,
        timeoutMs: 240_000,
        intervalMs: 200,
      },
    );
    t.diagnostic(`laptop stopped ${stops} times during the burst; desktop edited ${edits} times`);
    await topo.stopAll();
    assert.deepEqual(found, [], 'no commit deletes a file');
    assert.deepEqual(deleted(), [], 'no commit deletes a file, after the stops');
  },
);
