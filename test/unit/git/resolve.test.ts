import { test } from 'node:test';
import assert from 'node:assert/strict';
import { variantName, resolvePath, indexInfo } from '../../../src/git/resolve.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('variantName keeps the extension and marks hidden files at the end', () => {
  const rows: Array<[string, string]> = [
    ['notes.txt', 'notes.variant-aaaaaaaa.txt'],
    ['dir/sub/photo.jpg', 'dir/sub/photo.variant-aaaaaaaa.jpg'],
    ['Makefile', 'Makefile.variant-aaaaaaaa'],
    ['.bashrc', '.bashrc.variant-aaaaaaaa'],
    ['dir.d/file', 'dir.d/file.variant-aaaaaaaa'],
    ['archive.tar.gz', 'archive.tar.variant-aaaaaaaa.gz'],
  ];
  for (const [path, want] of rows) assert.equal(variantName(path, A), want, path);
});

test('resolvePath: table', () => {
  const e = (oid: string) => ({ mode: '100644', oid });
  const rows: Array<
    [string, Map<1 | 2 | 3, { mode: string; oid: string }>, [number, number], Array<[string, string]>]
  > = [
    [
      'newer side keeps the name',
      new Map([
        [1, e('c'.repeat(40))],
        [2, e(A)],
        [3, e(B)],
      ]),
      [200, 100],
      [
        ['f.txt', A],
        ['f.variant-bbbbbbbb.txt', B],
      ],
    ],
    [
      'newer second side',
      new Map([
        [2, e(A)],
        [3, e(B)],
      ]),
      [100, 200],
      [
        ['f.txt', B],
        ['f.variant-aaaaaaaa.txt', A],
      ],
    ],
    [
      'tie: larger blob id wins',
      new Map([
        [2, e(A)],
        [3, e(B)],
      ]),
      [100, 100],
      [
        ['f.txt', B],
        ['f.variant-aaaaaaaa.txt', A],
      ],
    ],
    [
      'modify/delete keeps the modified file',
      new Map([
        [1, e(A)],
        [2, e(B)],
      ]),
      [1, 2],
      [['f.txt', B]],
    ],
    [
      'delete/modify keeps the modified file',
      new Map([
        [1, e(A)],
        [3, e(B)],
      ]),
      [2, 1],
      [['f.txt', B]],
    ],
    [
      'identical on both sides',
      new Map([
        [2, e(A)],
        [3, e(A)],
      ]),
      [1, 2],
      [['f.txt', A]],
    ],
  ];
  for (const [name, stages, [t1, t2], want] of rows) {
    const got = resolvePath('f.txt', stages, [{ time: t1 }, { time: t2 }]).map((x) => [x.path, x.oid]);
    assert.deepEqual(got, want, name);
  }
});

test('resolution is symmetric: swapping the sides gives the same entries', () => {
  const e = (oid: string) => ({ mode: '100644', oid });
  const one = resolvePath(
    'x/y.md',
    new Map([
      [2, e(A)],
      [3, e(B)],
    ]),
    [{ time: 5 }, { time: 9 }],
  );
  const two = resolvePath(
    'x/y.md',
    new Map([
      [2, e(B)],
      [3, e(A)],
    ]),
    [{ time: 9 }, { time: 5 }],
  );
  assert.deepEqual(one, two);
});

test('indexInfo removes conflicted paths before adding resolved entries', () => {
  const s = indexInfo(['f'], [{ mode: '100644', oid: A, path: 'f' }]);
  assert.equal(s, `0 ${'0'.repeat(40)}\tf\x00100644 ${A}\tf\x00`);
});
