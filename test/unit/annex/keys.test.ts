// The one annex key validator (annex/keys.ts isValidKey), used by the agent and by `cancel KEY`.
// The rows where the CLI's old copy disagreed with the agent's are marked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidKey } from '../../../src/annex/keys.js';

test('isValidKey: what git-annex writes, and nothing that could be an option or a path', () => {
  const rows: Array<[key: string, ok: boolean]> = [
    ['SHA256E-s4--aff24c111c51fbfb99dc238f737db5be16abef773ef754a5b30885ee3d747427.jpg', true],
    ['MD5E-s3-S1000-C2--ab', true],
    ['URL--http&c%%example.com', true],
    ['WORM-s5-m1700000000--a b.txt', true], // the CLI refused a name with a space
    ['SHA256-s0--', true], // git-annex may leave the name empty; the CLI asked for one character
    ['sha256e-s4--x', false], // the CLI took a lower-case backend; git-annex writes upper case
    ['SHA256E-x4--x', false], // the CLI took any field letter; git-annex's are s, m, S and C
    ['SHA256E-s4--a/b', false],
    ['SHA256E-s4--a\tb', false],
    ['-s4--x', false],
    ['--all', false],
    ['SHA256E', false],
    ['', false],
  ];
  for (const [key, ok] of rows) assert.equal(isValidKey(key), ok, JSON.stringify(key));
});
