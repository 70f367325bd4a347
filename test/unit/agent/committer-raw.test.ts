// The committer with names that are not valid UTF-8, against a stand-in for GitSync and the runner
// (no git spawned): the mangled string never reaches the string-path commit, the bytes reach git
// exactly, and a name git refuses is reported C-quoted in the stuck list, then forgotten once gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import { Committer } from '../../../src/agent/committer.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { GitError } from '../../../src/git/errors.js';
import type { GitSync, CommitResult } from '../../../src/git/sync.js';
import { ignoreMatcher } from '../../../src/git/transient.js';
import type { RunOptions } from '../../../src/git/runner.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

const NAME = Buffer.from('caf\xe9.txt', 'latin1');

interface Fake {
  sync: GitSync;
  /** Paths handed to GitSync.commit, per call. */
  commits: string[][];
  /** stdin of every update-index call. */
  staged: Buffer[];
}

function fakeSync(workTree: string, opts: { refuse: boolean }): Fake {
  const commits: string[][] = [];
  const staged: Buffer[] = [];
  const present = () => existsAsBytes(workTree);
  const runner = {
    gitBytes: async () => ({
      stdout: present() ? Buffer.concat([Buffer.from('?? '), NAME, Buffer.from([0])]) : Buffer.alloc(0),
      stderr: '',
      code: 0,
    }),
    git: async (args: readonly string[], o: RunOptions = {}) => {
      staged.push(Buffer.from(o.input ?? ''));
      if (opts.refuse) throw new GitError(`git ${args[0]}: unable to index file`, args, 128, '');
      return { stdout: '', stderr: '', code: 0 };
    },
  };
  const sync = {
    info: { workTree, mode: 'git' },
    runner,
    ignore: ignoreMatcher(),
    // What git status shows once decoded as UTF-8: the invalid byte is U+FFFD.
    pendingPaths: async () => (present() ? [NAME.toString('utf8')] : []),
    commit: async (paths: string[], stageMore?: () => Promise<void>): Promise<CommitResult | null> => {
      commits.push(paths);
      if (stageMore) await stageMore();
      return { sha: 'x'.repeat(40), parent: null, added: 1, modified: 0, deleted: 0, message: 'm' };
    },
  } as unknown as GitSync;
  return { sync, commits, staged };
}

/** lstat through a Buffer path: the name exists only as these bytes. */
function existsAsBytes(workTree: string): boolean {
  try {
    lstatSync(Buffer.concat([Buffer.from(workTree + '/'), NAME]));
    return true;
  } catch {
    return false;
  }
}

test('a name that is not valid UTF-8 is staged by its exact bytes, never as its mangled string', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  writeFileSync(Buffer.concat([Buffer.from(tmp.path + '/'), NAME]), 'x');
  const f = fakeSync(tmp.path, { refuse: false });
  const committed: CommitResult[] = [];
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: (r) => committed.push(r),
  });
  await c.start({ fail: () => {} } as never);
  await c.flush();
  await c.stop();
  assert.deepEqual(f.commits, [[]], 'no string path (no U+FFFD name) reaches the commit');
  assert.deepEqual(f.staged, [Buffer.concat([NAME, Buffer.from([0])])], 'update-index got the exact bytes');
  assert.equal(committed.length, 1);
  assert.deepEqual(c.stuckPaths(), []);
});

test('a name git refuses is stuck, shown C-quoted with the reason, and forgotten once it is gone', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const abs = Buffer.concat([Buffer.from(tmp.path + '/'), NAME]);
  writeFileSync(abs, 'x');
  const f = fakeSync(tmp.path, { refuse: true });
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  await c.flush();
  const stuck = c.stuckPaths();
  assert.equal(stuck.length, 1);
  assert.equal(stuck[0]!.path, '"caf\\351.txt"');
  assert.match(stuck[0]!.error, /unable to index file.*not valid UTF-8/);
  assert.ok(!JSON.stringify(stuck).includes('\uFFFD'), 'never the mangled form');
  // Set aside, not retried in a loop: nothing stays pending.
  assert.equal(c.pendingCount, 0);
  // The file goes away; the watcher's raw event hands its directory to a scan, which finds nothing.
  rmSync(abs);
  c.noteDir('');
  await waitFor(() => c.stuckPaths().length === 0, { what: 'the stuck name to be forgotten' });
});
