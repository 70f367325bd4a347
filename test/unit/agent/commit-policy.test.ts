import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, isStable, DEFAULT_POLICY as P } from '../../../src/agent/commit-policy.js';

test('decide: table', () => {
  const rows: Array<[string, Parameters<typeof decide>[0], number, ReturnType<typeof decide>]> = [
    ['nothing pending', { count: 0, firstAt: 0, lastAt: 0 }, 1000, { kind: 'idle' }],
    [
      'lone save, still in quiet period',
      { count: 1, firstAt: 1000, lastAt: 1000 },
      1010,
      { kind: 'wait', ms: 10 },
    ],
    [
      'lone save, quiet long enough',
      { count: 1, firstAt: 1000, lastAt: 1000 },
      1030,
      { kind: 'commit', limit: P.maxBatch },
    ],
    [
      'burst uses the longer quiet period',
      { count: 500, firstAt: 1000, lastAt: 1100 },
      1200,
      { kind: 'wait', ms: 150 },
    ],
    [
      'burst settled',
      { count: 500, firstAt: 1000, lastAt: 1100 },
      1500,
      { kind: 'commit', limit: P.maxBatch },
    ],
    [
      'continuous writes hit max wait',
      { count: 500, firstAt: 0, lastAt: 4999 },
      5000,
      { kind: 'commit', limit: P.maxBatch },
    ],
    [
      'wait never exceeds the max-wait deadline',
      { count: 500, firstAt: 0, lastAt: 4900 },
      4950,
      { kind: 'wait', ms: 50 },
    ],
    [
      'new folders: the burst quiet period from the first file',
      { count: 3, firstAt: 1000, lastAt: 1000, newFolders: true },
      1030,
      { kind: 'wait', ms: P.burstQuietMs - 30 },
    ],
    [
      'new folders: writes that go on are committed at the shorter cap',
      { count: 900, firstAt: 1000, lastAt: 1000 + P.newFolderMaxWaitMs - 1, newFolders: true },
      1000 + P.newFolderMaxWaitMs,
      { kind: 'commit', limit: P.maxBatch },
    ],
    [
      'the same writes elsewhere wait for the long cap',
      { count: 900, firstAt: 1000, lastAt: 1000 + P.newFolderMaxWaitMs - 1 },
      1000 + P.newFolderMaxWaitMs,
      { kind: 'wait', ms: P.burstQuietMs - 1 },
    ],
    [
      'cap reached: commit at once',
      { count: P.maxBatch, firstAt: 0, lastAt: 10 },
      10,
      { kind: 'commit', limit: P.maxBatch },
    ],
    [
      'at the burst threshold: still the short quiet',
      { count: P.burstThreshold, firstAt: 0, lastAt: 0 },
      30,
      { kind: 'commit', limit: P.maxBatch },
    ],
  ];
  for (const [name, pending, now, want] of rows) assert.deepEqual(decide(pending, now), want, name);
});

test('isStable: table', () => {
  const seen = { eventAt: 1000, size: 10, mtimeMs: 990 };
  const rows: Array<[string, { size: number | null; mtimeMs: number | null }, number, boolean]> = [
    ['unchanged and quiet', { size: 10, mtimeMs: 990 }, 1100, true],
    ['grew since the event: still being written', { size: 20, mtimeMs: 1050 }, 1100, false],
    ['same size, newer mtime: rewritten', { size: 10, mtimeMs: 1060 }, 1100, false],
    ['event too recent', { size: 10, mtimeMs: 990 }, 1010, false],
    ['deleted: always ready', { size: null, mtimeMs: null }, 1001, true],
  ];
  for (const [name, now, at, want] of rows) assert.equal(isStable(seen, now, at, 30), want, name);
});
