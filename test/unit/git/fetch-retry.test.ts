// A fetch that loses a race with our own push for a tracking ref ("cannot lock ref … is at X but
// expected Y") is run again, not reported as a failed remote; other failures are not retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GitSync } from '../../../src/git/sync.js';
import { Runner, type RunOptions, type RunResult } from '../../../src/git/runner.js';
import { classify, RemoteUnreachableError } from '../../../src/git/errors.js';
import { createLogger } from '../../../src/core/log.js';
import type { RepoInfo } from '../../../src/git/repo.js';

class FailingRunner extends Runner {
  calls = 0;
  constructor(private readonly failures: string[]) {
    super('/nonexistent');
  }
  override async git(args: readonly string[], _opts: RunOptions = {}): Promise<RunResult> {
    assert.equal(args[0], 'fetch');
    const err = this.failures[this.calls++];
    if (err !== undefined) throw classify(args, 1, err, `git fetch: ${err}`);
    return { stdout: '', stderr: '', code: 0 };
  }
}

const info = {
  workTree: '/nonexistent',
  gitDir: '/nonexistent/.git',
  branch: 'main',
  mode: 'git',
} as RepoInfo;
const RACE =
  "error: cannot lock ref 'refs/remotes/origin/synced/main': is at 1111111111111111111111111111111111111111 but expected 2222222222222222222222222222222222222222";

test('fetch: a tracking-ref race with our own push is fetched again', async () => {
  const runner = new FailingRunner([RACE, RACE]);
  await new GitSync({ info, runner, log: createLogger({}) }).fetch('origin');
  assert.equal(runner.calls, 3);
});

test('fetch: a race that does not end is reported after a few tries', async () => {
  const runner = new FailingRunner([RACE, RACE, RACE, RACE, RACE, RACE]);
  await assert.rejects(
    new GitSync({ info, runner, log: createLogger({}) }).fetch('origin'),
    /cannot lock ref/,
  );
  assert.equal(runner.calls, 4);
});

test('fetch: a remote that is down is not retried here (the merger backs off)', async () => {
  const runner = new FailingRunner(["fatal: 'x' does not appear to be a git repository"]);
  await assert.rejects(
    new GitSync({ info, runner, log: createLogger({}) }).fetch('origin'),
    RemoteUnreachableError,
  );
  assert.equal(runner.calls, 1);
});
