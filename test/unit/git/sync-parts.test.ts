// The pure decisions of git/sync.ts's parts, in tables: whether the repository is ours to touch
// (guards.ts), the index.lock pauses (locks.ts), the refspecs we push (push.ts), the backoff of a
// path that came out raw (stage.ts), and our git-annex branch in the merge inputs (annex-branch.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyReason } from '../../../src/git/guards.js';
import { lockPauseMs, LOCK_RETRIES } from '../../../src/git/locks.js';
import { refspecs } from '../../../src/git/push.js';
import { rawRetryMs } from '../../../src/git/stage.js';
import { annexBranchOf } from '../../../src/git/annex-branch.js';

test('busyReason: the branch we sync, and no operation of the user in progress', () => {
  const none = () => false;
  const only = (f: string) => (file: string) => file === f;
  const rows: Array<[string, string, (f: string) => boolean, boolean, RegExp | null]> = [
    ['ref: refs/heads/main', 'main', none, false, null],
    ['ref: refs/heads/topic', 'main', none, false, /HEAD is on branch topic, not main/],
    ['0123456789abcdef0123456789abcdef01234567', 'main', none, false, /HEAD is on a detached HEAD/],
    ['', 'main', none, false, /a detached HEAD/],
    ['ref: refs/heads/main', 'main', only('MERGE_HEAD'), false, /a merge is in progress/],
    // Our own merge marker: a MERGE_HEAD of ours (a crash) is no user's merge.
    ['ref: refs/heads/main', 'main', only('MERGE_HEAD'), true, null],
    ['ref: refs/heads/main', 'main', only('rebase-merge'), true, /a rebase is in progress/],
    ['ref: refs/heads/main', 'main', only('rebase-apply'), false, /a rebase or am is in progress/],
    ['ref: refs/heads/main', 'main', only('CHERRY_PICK_HEAD'), false, /a cherry-pick is in progress/],
    ['ref: refs/heads/main', 'main', only('REVERT_HEAD'), false, /a revert is in progress/],
    // The branch is checked before the operations: switching back is the first thing to do.
    ['ref: refs/heads/topic', 'main', only('MERGE_HEAD'), false, /HEAD is on branch topic/],
  ];
  for (const [head, branch, present, ours, want] of rows) {
    const got = busyReason(head, branch, present, ours);
    if (want === null) assert.equal(got, null, `${head} ${branch}`);
    else assert.match(got ?? '', want, `${head} ${branch}`);
  }
});

test('lockPauseMs: 25 ms doubling, at most 1 s; the retries cover more than 6 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 11].map(lockPauseMs), [25, 50, 100, 200, 400, 800, 1000, 1000]);
  let total = 0;
  for (let i = 0; i < LOCK_RETRIES; i++) total += lockPauseMs(i);
  assert.ok(total > 6_000, `${total} ms`);
});

test('refspecs: synced/<branch> always; the branch itself only to a remote that takes it; git-annex in annex mode', () => {
  assert.deepEqual(refspecs('main', 'git', false), [
    'refs/heads/main:refs/heads/synced/main',
    'refs/heads/main:refs/heads/main',
  ]);
  assert.deepEqual(refspecs('main', 'git', true), ['refs/heads/main:refs/heads/synced/main']);
  assert.deepEqual(refspecs('dev/x', 'annex', false), [
    'refs/heads/dev/x:refs/heads/synced/dev/x',
    'refs/heads/dev/x:refs/heads/dev/x',
    'refs/heads/git-annex:refs/heads/synced/git-annex',
    'refs/heads/git-annex:refs/heads/git-annex',
  ]);
  assert.deepEqual(refspecs('main', 'annex', true), [
    'refs/heads/main:refs/heads/synced/main',
    'refs/heads/git-annex:refs/heads/synced/git-annex',
  ]);
});

test('rawRetryMs: 1 s after the first time, doubling, at most 1 min', () => {
  assert.deepEqual([1, 2, 3, 6, 7, 20].map(rawRetryMs), [1_000, 2_000, 4_000, 32_000, 60_000, 60_000]);
});

test('annexBranchOf: our git-annex branch among the inputs, never a remote or synced one', () => {
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const c = 'c'.repeat(40);
  const rows: Array<[string, string]> = [
    ['', ''],
    [`${a} refs/heads/git-annex\n`, a],
    [`${b} refs/heads/synced/git-annex\n${a} refs/heads/git-annex\n${c} refs/remotes/o/git-annex\n`, a],
    [`${b} refs/heads/synced/git-annex\n${c} refs/remotes/o/git-annex\n`, ''],
  ];
  for (const [inputs, want] of rows) assert.equal(annexBranchOf(inputs), want, inputs);
});
