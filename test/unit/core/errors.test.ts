import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutosyncError, FatalServiceError, UserError } from '../../../src/core/errors.js';
import {
  BusyError,
  DiskFullError,
  GitError,
  InSubmoduleError,
  LockedError,
  classify,
} from '../../../src/git/errors.js';

test('every error of ours is an AutosyncError with a code; messages and exit codes as before', () => {
  const cases: Array<{ e: AutosyncError; code: string; message: string }> = [
    { e: new UserError('bad value'), code: 'usage', message: 'bad value' },
    { e: new UserError('already running', 1), code: 'failed', message: 'already running' },
    {
      e: new FatalServiceError('out of watches', 'raise it'),
      code: 'service-fatal',
      message: 'out of watches',
    },
    { e: new GitError('git x failed', ['x'], 128, ''), code: 'git-failed', message: 'git x failed' },
    { e: new DiskFullError('full', [], 1, 'No space left on device'), code: 'disk-full', message: 'full' },
    { e: new BusyError('mid-rebase', [], null, ''), code: 'busy', message: 'mid-rebase' },
    {
      e: new InSubmoduleError('lib', [], 128, ''),
      code: 'in-submodule',
      message: new InSubmoduleError('lib', [], 128, '').message,
    },
  ];
  for (const c of cases) {
    assert.ok(c.e instanceof AutosyncError && c.e instanceof Error, c.code);
    assert.equal(c.e.code, c.code);
    assert.equal(c.e.message, c.message);
  }
  assert.equal(new UserError('x').exitCode, 2);
  assert.equal(new UserError('x', 1).exitCode, 1);
  const g = classify(
    ['add'],
    128,
    "fatal: Unable to create '/r/.git/index.lock': File exists.",
    'git add failed',
  );
  assert.ok(g instanceof LockedError);
  assert.equal(g.code, 'locked');
  assert.equal(g.exitStatus, 128);
});
