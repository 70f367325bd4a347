// The large-file warning's words: plain git points to git-annex; in an annex repository it names
// the rule that left the file to git.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDotfile, largeFileMessage, mib } from '../../../src/git/large-files.js';

const M = 1024 * 1024;
const none = { attr: 'unspecified', config: null, dotfiles: false };

test('largeFileMessage: the reason for each case', () => {
  const table: Array<[path: string, rules: Parameters<typeof largeFileMessage>[2], expect: RegExp]> = [
    ['big.iso', null, /git annex init, then set annex\.largefiles/],
    ['.cache/big.bin', none, /leaves dotfiles to git unless annex\.dotfiles is true/],
    [
      '.big',
      { ...none, attr: 'largerthan=1gb' },
      /rule in \.gitattributes \(largerthan=1gb\) does not match it/,
    ],
    ['big.bin', { ...none, attr: 'largerthan=1gb' }, /rule in \.gitattributes \(largerthan=1gb\)/],
    ['big.bin', { ...none, config: 'largerthan=1gb' }, /annex\.largefiles in git config \(largerthan=1gb\)/],
    ['.big', { ...none, dotfiles: true, config: 'largerthan=1gb' }, /annex\.largefiles in git config/],
    ['big.bin', none, /git-annex left it to git/],
  ];
  for (const [path, rules, expect] of table) {
    const m = largeFileMessage(path, 300 * M, rules);
    assert.match(m, expect, `${path} ${JSON.stringify(rules)}`);
    assert.ok(m.startsWith(`${path} is 300.0 MiB and went into git itself`), m);
    assert.match(m, /GitHub warns at 50 MB, rejects 100 MB/);
  }
});

test('isDotfile and mib', () => {
  assert.equal(isDotfile('.x'), true);
  assert.equal(isDotfile('a/.d/x'), true);
  assert.equal(isDotfile('a/b.c'), false);
  assert.equal(mib(52428800), '50.0 MiB');
});
