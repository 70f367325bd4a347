import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stderrSummary } from '../../../src/git/errors.js';
import { Runner } from '../../../src/git/runner.js';
import { initRepo, tmpDir, write, git } from '../../helpers/repos.js';

// Remote errors kept only git's last three lines, which are advice: "ERROR: git push … :  | Please
// make sure you have the correct access rights", without the line that says what is wrong.
const CASES: Array<{ name: string; stderr: string; want: string }> = [
  {
    name: 'a missing local remote: the cause, not the advice',
    stderr:
      "fatal: '/nope' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
    want: "fatal: '/nope' does not appear to be a git repository | fatal: Could not read from remote repository.",
  },
  {
    name: 'ssh: the server refused the key',
    stderr:
      'git@host: Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n',
    want: 'git@host: Permission denied (publickey). | fatal: Could not read from remote repository.',
  },
  {
    name: 'a rejected push keeps the ref line and the error, not the hints',
    stderr:
      "To /srv/cloud\n ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to '/srv/cloud'\nhint: Updates were rejected because the remote contains work that you do\nhint: not have locally.\n",
    want: "! [rejected]        main -> main (fetch first) | error: failed to push some refs to '/srv/cloud'",
  },
  {
    name: 'no line names a cause: the last lines that are not advice',
    stderr: 'something odd\nhappened here\n',
    want: 'something odd | happened here',
  },
  { name: 'empty', stderr: '\n\n', want: '' },
  {
    name: 'at most three cause lines',
    stderr: 'error: a\nerror: b\nerror: c\nerror: d\n',
    want: 'error: a | error: b | error: c',
  },
];

for (const c of CASES) {
  test(`stderrSummary: ${c.name}`, () => assert.equal(stderrSummary(c.stderr), c.want));
}

test('a push to a remote that is not a repository names the cause in its message (real git)', async () => {
  const d = tmpDir();
  try {
    const repo = initRepo(`${d.path}/a`);
    write(repo, 'x', '1');
    git(repo, 'add', 'x');
    git(repo, 'commit', '-qm', 'x');
    const err = await new Runner(repo).git(['push', `${d.path}/no-such-remote`, 'HEAD']).then(
      () => null,
      (e: unknown) => e as Error,
    );
    assert.ok(err, 'the push must fail');
    assert.match(err.message, /does not appear to be a git repository/);
    assert.doesNotMatch(err.message, /Please make sure/);
  } finally {
    d.cleanup();
  }
});
