// Ref names, SHAs and ids: the whitelist and the check-ref-format rules, in pure TS. Where git is
// installed, the check-ref-format verdicts are compared with git's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { isSha } from '../../../src/git/sha.js';
import { checkRefFormat, isId, isRefName, refNameProblem } from '../../../src/signal/validate.js';

const VALID = [
  'refs/heads/main',
  'refs/heads/git-annex',
  'refs/heads/synced/main',
  'refs/tags/v1.2.3',
  'refs/remotes/origin/feature_x',
  'refs/heads/a.b',
  'refs/heads/UPPER/lower-9',
];

const INVALID: Array<[string, string]> = [
  ['', 'empty'],
  ['main', 'not under refs/'],
  ['HEAD', 'not under refs/'],
  ['@', 'single @'],
  ['--upload-pack=evil', 'option'],
  ['-refs/heads/x', 'leading dash'],
  ['refs/heads/-x', 'component starting with dash (whitelist)'],
  ['refs/heads/../x', 'dot dot'],
  ['refs/heads/a..b', 'dot dot inside'],
  ['refs/heads/.hidden', 'component starting with dot'],
  ['refs/heads/x.lock', 'ends with .lock'],
  ['refs/heads/x.lock/y', 'component ends with .lock'],
  ['refs/heads/x.', 'ends with dot'],
  ['refs/heads/x/', 'ends with slash'],
  ['refs//heads/x', 'double slash'],
  ['refs/heads/a b', 'space'],
  ['refs/heads/a~1', 'tilde'],
  ['refs/heads/a^', 'caret'],
  ['refs/heads/a:b', 'colon'],
  ['refs/heads/a?', 'question mark'],
  ['refs/heads/a*', 'star'],
  ['refs/heads/a[', 'bracket'],
  ['refs/heads/a\\b', 'backslash'],
  ['refs/heads/a@{1}', 'at brace'],
  ['refs/heads/a\u0000b', 'NUL'],
  ['refs/heads/a\nb', 'newline'],
  ['refs/heads/a\u007fb', 'DEL'],
  ['refs/heads/é', 'non-ASCII (whitelist)'],
  ['refs/heads/a+b', 'plus (whitelist)'],
  ['refs/heads/ext::sh', 'colon'],
  ['refs/heads/' + 'x'.repeat(200), 'too long'],
];

test('valid ref names pass', () => {
  for (const name of VALID) assert.equal(refNameProblem(name), null, name);
});

test('invalid ref names are refused', () => {
  for (const [name, why] of INVALID) assert.equal(isRefName(name), false, `${JSON.stringify(name)}: ${why}`);
});

test('check-ref-format agrees with git where git has an opinion', (t) => {
  let git = true;
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
  } catch {
    git = false;
  }
  if (!git) {
    t.skip('git not installed');
    return;
  }
  // Only names git can take as an argument (no NUL) and that our whitelist does not refuse on its own.
  const names = [...VALID, ...INVALID.map(([n]) => n)].filter((n) => n.length > 0 && !n.includes('\u0000'));
  for (const name of names) {
    let gitOk = true;
    try {
      execFileSync('git', ['check-ref-format', name], { stdio: 'ignore' });
    } catch {
      gitOk = false;
    }
    const ours = checkRefFormat(name) === null;
    // We require refs/ and refuse a leading '-' even where git would allow the name.
    if (ours) assert.ok(gitOk, `we accept ${JSON.stringify(name)} but git refuses it`);
    if (!gitOk) assert.equal(ours, false, `git refuses ${JSON.stringify(name)} but we accept it`);
  }
});

test('SHAs: 40 or 64 lower-case hex only', () => {
  assert.ok(isSha('0'.repeat(40)));
  assert.ok(isSha('f'.repeat(64)));
  for (const bad of [
    '',
    'a'.repeat(39),
    'a'.repeat(41),
    'A'.repeat(40),
    'g'.repeat(40),
    'ext::sh',
    `${'a'.repeat(40)}\n`,
  ]) {
    assert.equal(isSha(bad), false, JSON.stringify(bad));
  }
});

test('ids: [A-Za-z0-9._-], bounded, no leading dash or dot', () => {
  for (const ok of ['5e1e8c1f-0000-4000-8000-000000000001', 'laptop.repo', 'a', 'x_y', 'n'.repeat(128)]) {
    assert.ok(isId(ok), ok);
  }
  for (const bad of [
    '',
    '-x',
    '.x',
    '..',
    'a/b',
    'a b',
    'ext::sh',
    'n'.repeat(129),
    'é',
    'a\nb',
    '--upload-pack=x',
  ]) {
    assert.equal(isId(bad), false, JSON.stringify(bad));
  }
});
