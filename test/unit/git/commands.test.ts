import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseForEachRef,
  parseStatusZ,
  parseMergeTree,
  parsePushPorcelain,
} from '../../../src/git/commands.js';
import { classify, LockedError, RemoteUnreachableError, GitError } from '../../../src/git/errors.js';

const S1 = '1'.repeat(40);
const S2 = '2'.repeat(40);

test('parseForEachRef ignores junk lines', () => {
  const m = parseForEachRef(`${S1} refs/heads/main\nnot a sha refs/x\n${S2} refs/remotes/a/synced/main\n`);
  assert.deepEqual(
    [...m],
    [
      ['refs/heads/main', S1],
      ['refs/remotes/a/synced/main', S2],
    ],
  );
});

test('parseStatusZ handles spaces, renames and odd names', () => {
  const out = ' M a b.txt\0?? new\nline\0R  to\0from\0';
  assert.deepEqual(parseStatusZ(out), [
    { xy: ' M', path: 'a b.txt' },
    { xy: '??', path: 'new\nline' },
    { xy: 'R ', path: 'to', from: 'from' },
  ]);
});

test('parseMergeTree reads the tree and the stage entries', () => {
  const stdout = `${S1}\x00100644 ${S2} 1\tf\x00100644 ${S1} 2\tf\x00100644 ${S2} 3\tf\x00\x001\x00f\x00CONFLICT (contents)\x00`;
  const r = parseMergeTree({ stdout, stderr: '', code: 1 });
  assert.equal(r.tree, S1);
  assert.equal(r.clean, false);
  assert.deepEqual([...r.conflicts.get('f')!.keys()], [1, 2, 3]);
  assert.throws(() => parseMergeTree({ stdout: 'fatal', stderr: '', code: 128 }));
});

test('parsePushPorcelain classifies refusals', () => {
  const out = [
    'To /tmp/x',
    '!\trefs/heads/main:refs/heads/main\t[remote rejected] (branch is currently checked out)',
    '!\trefs/heads/main:refs/heads/synced/main\t[rejected] (non-fast-forward)',
    ' \trefs/heads/git-annex:refs/heads/synced/git-annex\tabc..def',
    '=\trefs/heads/x:refs/heads/x\t[up to date]',
    'Done',
  ].join('\n');
  const r = parsePushPorcelain(out);
  assert.equal(r.length, 4);
  assert.equal(r[0]!.checkedOut, true);
  assert.equal(r[1]!.nonFastForward, true);
  assert.equal(r[2]!.ok, true);
  assert.equal(r[3]!.flag, '=');
});

test('classify picks the specific error class', () => {
  assert.ok(
    classify([], 128, "fatal: Unable to create '/r/.git/index.lock': File exists.", 'x') instanceof
      LockedError,
  );
  assert.ok(
    classify([], 128, "fatal: '/nope' does not appear to be a git repository", 'x') instanceof
      RemoteUnreachableError,
  );
  const g = classify([], 1, 'something else', 'x');
  assert.ok(g instanceof GitError && !(g instanceof LockedError));
});
