// The one classifier of git's and git-annex's stderr: which failures are transient (retry the whole
// operation later), which are a lock, which a remote that is down, and which are plain refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classify,
  transientCause,
  DiskFullError,
  DiskIoError,
  GitError,
  InSubmoduleError,
  isAnnexRemoteUnreachable,
  isAnnexTransferBusy,
  isUntrackedInTheWay,
  isVanishedPath,
  isWorkTreeInTheWay,
  LockedError,
  NotARepositoryError,
  NoWorkTreeError,
  pushRefusal,
  RemoteUnreachableError,
  TimeoutError,
  TransientError,
} from '../../../src/git/errors.js';

const table: Array<[stderr: string, cls: typeof GitError, cause: string | null]> = [
  ['fatal: unable to write loose object file: No space left on device', DiskFullError, 'disk full (ENOSPC)'],
  [
    "fatal: Unable to create '/r/.git/index.lock': No space left on device",
    DiskFullError,
    'disk full (ENOSPC)',
  ],
  [
    'git-annex: .git/annex/tmp/x: openBinaryFile: resource exhausted (No space left on device)',
    DiskFullError,
    'disk full (ENOSPC)',
  ],
  ['error: unable to write file: Disk quota exceeded', DiskFullError, 'disk quota exceeded (EDQUOT)'],
  ['error: short read while indexing a.txt: Input/output error', DiskIoError, 'disk I/O error (EIO)'],
  [
    "fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git process seems to be running",
    LockedError,
    'another git holds a lock',
  ],
  [
    "error: cannot lock ref 'refs/heads/main': is at 1 but expected 2",
    LockedError,
    'another git holds a lock',
  ],
  ["fatal: 'nowhere' does not appear to be a git repository", RemoteUnreachableError, null],
  ["error: 'sub/x' is beyond a symbolic link", GitError, null],
  ["fatal: Pathspec 'sub/x' is in submodule 'sub'", InSubmoduleError, null],
  ['fatal: bad object HEAD', GitError, null],
  ['fatal: not a git repository (or any of the parent directories): .git', NotARepositoryError, null],
  ['fatal: this operation must be run in a work tree', NoWorkTreeError, null],
];

test('classify: the class and the cause in words, from stderr', () => {
  for (const [stderr, cls, cause] of table) {
    const e = classify(['x'], 128, stderr, 'git x: failed');
    assert.equal(e.constructor, cls, stderr);
    assert.equal(e instanceof TransientError, cause !== null, stderr);
    assert.equal(transientCause(e), cause, stderr);
  }
});

test('a path inside a submodule: one line that says what to do, naming the submodule', () => {
  const e = classify(['check-ignore'], 128, "fatal: Pathspec 'lib/x/a.c' is in submodule 'lib/x'\n", 'raw');
  assert.ok(e instanceof InSubmoduleError);
  assert.equal(e.submodule, 'lib/x');
  assert.equal(
    e.message,
    "inside submodule 'lib/x': commit them in the submodule (git -C lib/x commit) and the agent will record the new submodule commit",
  );
});

test('a command killed at its deadline is transient: retried, never a stuck path', () => {
  const e = new TimeoutError('git update-index: timed out after 60000 ms', ['update-index'], null, '');
  assert.ok(e instanceof GitError);
  assert.equal(transientCause(e), 'timed out (a lock held by another process, or a stalled disk)');
});

test('transientCause: node errors with the same causes; anything else is not transient', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  assert.equal(transientCause(errno('ENOSPC')), 'disk full (ENOSPC)');
  assert.equal(transientCause(errno('EIO')), 'disk I/O error (EIO)');
  assert.equal(transientCause(errno('EACCES')), null);
  assert.equal(transientCause(new Error('x')), null);
  assert.equal(transientCause('a string'), null);
  assert.equal(transientCause(null), null);
});

const gitErr = (stderr: string) => new GitError('git x: failed', ['x'], 1, stderr);

test('what a failure means to the command that ran: vanished paths, a work tree in the way', () => {
  const rows: Array<[stderr: string, vanished: boolean, inTheWay: boolean, untracked: boolean]> = [
    ['error: a.txt: does not exist and --remove not passed', true, false, false],
    ['error: open("a.txt"): No such file or directory', true, false, false],
    ['error: unable to stat just-written file a.txt', true, false, false],
    [
      'error: Your local changes to the following files would be overwritten by merge:\n\ta.txt',
      false,
      true,
      false,
    ],
    ["error: Entry 'a.txt' not uptodate. Cannot merge.", false, true, false],
    [
      'error: The following untracked working tree files would be overwritten by merge:\n\tb.txt',
      false,
      true,
      true,
    ],
    ['fatal: bad object HEAD', false, false, false],
  ];
  for (const [stderr, vanished, inTheWay, untracked] of rows) {
    assert.equal(isVanishedPath(gitErr(stderr)), vanished, stderr);
    assert.equal(isWorkTreeInTheWay(gitErr(stderr)), inTheWay, stderr);
    assert.equal(isUntrackedInTheWay(gitErr(stderr)), untracked, stderr);
  }
  // Only a git failure: the same words in any other error mean nothing here.
  const plain = new Error('No such file or directory, would be overwritten');
  assert.equal(isVanishedPath(plain), false);
  assert.equal(isWorkTreeInTheWay(plain), false);
  assert.equal(isUntrackedInTheWay(plain), false);
});

test('pushRefusal: why a remote refused a ref, from the porcelain summary', () => {
  const rows: Array<[summary: string, nonFastForward: boolean, checkedOut: boolean]> = [
    ['[rejected] (non-fast-forward)', true, false],
    ['[rejected] (fetch first)', true, false],
    ['[rejected] (stale info)', true, false],
    ['[remote rejected] (branch is currently checked out)', false, true],
    ['[remote rejected] (refusing to update checked out branch: refs/heads/main)', false, true],
    ['[remote rejected] (deny updating a current branch)', false, true],
    ['[remote rejected] (pre-receive hook declined)', false, false],
  ];
  for (const [summary, nonFastForward, checkedOut] of rows)
    assert.deepEqual(pushRefusal(summary), { nonFastForward, checkedOut }, summary);
});

test('git-annex transfer messages: another process busy with the key, the remote not there', () => {
  const rows: Array<[text: string, busy: boolean, unreachable: boolean]> = [
    ['transfer already in progress, or unable to take transfer lock', true, false],
    ['Transfer failed: unable to take transfer lock', true, false],
    ['unable to check origin', false, true],
    ['ssh: connect to host h port 22: Connection refused', false, true],
    ['ssh: Could not resolve hostname h: Name or service not known', false, true],
    ['ssh: connect to host h port 22: No route to host', false, true],
    ['connect to host h port 22: Connection timed out', false, true],
    ['connect: Network is unreachable', false, true],
    ['remote /media/usb/repo does not exist', false, true],
    ['fatal: not a git repository', false, true],
    ['unable to access the remote', false, true],
    ['not available', false, true],
    ['verification of content failed', false, false],
    ['failed', false, false],
  ];
  for (const [text, busy, unreachable] of rows) {
    assert.equal(isAnnexTransferBusy(text), busy, text);
    assert.equal(isAnnexRemoteUnreachable(text), unreachable, text);
  }
});
