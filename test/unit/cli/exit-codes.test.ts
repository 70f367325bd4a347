// The one table from error codes to exit statuses, as the CLI applies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliError, EXIT_CODES, exitCodeOf, isExpected } from '../../../src/cli/exit-codes.js';
import { NoAgentError } from '../../../src/control/errors.js';
import { GitError } from '../../../src/git/errors.js';
import { UserError } from '../../../src/core/errors.js';

const CASES: Array<[string, unknown, 1 | 2, boolean]> = [
  ['a refused command line', new CliError('bad-usage', 'x'), 2, true],
  ['a bad value', new CliError('bad-input', 'x'), 2, true],
  ['no agent (from the control client)', new NoAgentError('/s', null), 1, true],
  ['a second agent', new CliError('agent-running', 'x'), 1, true],
  ['pair', new CliError('not-available', 'x'), 1, true],
  ['a UserError from below, exit 2', new UserError('bad config'), 2, true],
  ['a UserError from below, exit 1', new UserError('git is not installed', 1), 1, true],
  ['a git failure (its code is a number, not ours)', new GitError('boom', ['git'], 2, ''), 1, false],
  ['a Node error (ENOENT is not ours)', Object.assign(new Error('x'), { code: 'ENOENT' }), 1, false],
  ['a thrown string', 'what', 1, false],
];

for (const [what, e, code, expected] of CASES) {
  test(`exit status: ${what}`, () => {
    assert.equal(exitCodeOf(e), code);
    assert.equal(isExpected(e), expected);
  });
}

test('a CliError carries the exit status of its row', () => {
  for (const [code, status] of Object.entries(EXIT_CODES)) {
    const e = new CliError(code as keyof typeof EXIT_CODES, 'x');
    assert.equal(e.exitCode, status);
    assert.ok(e instanceof UserError);
  }
});
