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
  LockedError,
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
