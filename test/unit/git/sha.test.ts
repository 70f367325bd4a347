// The one SHA pattern (git/sha.ts): 40 or 64 lower-case hex digits, nothing in between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSha, SHA_PATTERN } from '../../../src/git/sha.js';

test('isSha: SHA-1 and SHA-256 object names only, lower case as git prints them', () => {
  const rows: Array<[value: string, ok: boolean]> = [
    ['0'.repeat(40), true],
    ['a'.repeat(64), true],
    ['0123456789abcdef0123456789abcdef01234567', true],
    ['0'.repeat(39), false],
    ['0'.repeat(41), false], // the old loose copy ({40,64}) took these
    ['0'.repeat(52), false],
    ['0'.repeat(63), false],
    ['0'.repeat(65), false],
    ['A'.repeat(40), false],
    ['g'.repeat(40), false],
    [' ' + '0'.repeat(40), false],
    ['0'.repeat(40) + '\n', false],
    ['', false],
  ];
  for (const [value, ok] of rows) assert.equal(isSha(value), ok, JSON.stringify(value));
});

test('SHA_PATTERN captures a whole object name inside a line of git output', () => {
  const re = new RegExp(`^160000 (${SHA_PATTERN}) 0\t(.*)$`, 's');
  const sha = 'f'.repeat(64);
  assert.deepEqual(re.exec(`160000 ${sha} 0\tsub`)?.slice(1), [sha, 'sub']);
  assert.equal(re.exec(`160000 ${'f'.repeat(50)} 0\tsub`), null);
});
