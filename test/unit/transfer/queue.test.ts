import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TransferQueue, entryId } from '../../../src/transfer/queue.js';
import { tmpDir } from '../../helpers/repos.js';

const K1 = 'SHA256E-s10--aaaa.bin';
const K2 = 'SHA256E-s20--bbbb.jpg';

test('queue: dedup by identity (upload per remote, download per key)', () => {
  const t = tmpDir();
  try {
    const q = new TransferQueue(t.path);
    assert.equal(
      q.addMany([
        { direction: 'upload', key: K1, remote: 'c' },
        { direction: 'upload', key: K1, remote: 'c' },
        { direction: 'upload', key: K1, remote: 'd' },
        { direction: 'download', key: K2, remote: 'c' },
        { direction: 'download', key: K2, remote: 'd' },
      ]),
      3,
    );
    assert.equal(q.size, 3);
    assert.equal(q.addMany([{ direction: 'upload', key: K1, remote: 'c' }]), 0);
  } finally {
    t.cleanup();
  }
});

test('queue: rejects invalid keys and remote names (peer data is untrusted)', () => {
  const t = tmpDir();
  try {
    const q = new TransferQueue(t.path);
    const n = q.addMany([
      { direction: 'upload', key: '--help', remote: 'c' },
      { direction: 'upload', key: 'SHA256E-s1--x\ny', remote: 'c' },
      { direction: 'upload', key: 'SHA256E-s1--../../etc', remote: 'c' },
      { direction: 'upload', key: K1, remote: '-oProxyCommand=x' },
      { direction: 'upload', key: K1, remote: 'ok' },
    ]);
    assert.equal(n, 1);
  } finally {
    t.cleanup();
  }
});

test('queue: persists atomically and survives a restart, with paused state and failures', () => {
  const t = tmpDir();
  try {
    const q = new TransferQueue(t.path);
    q.addMany([
      { direction: 'upload', key: K1, remote: 'c', file: 'a/b.bin', size: 10 },
      { direction: 'download', key: K2, remote: 'c', fallbacks: ['d'] },
    ]);
    q.update(entryId({ direction: 'upload', key: K1, remote: 'c' }), {
      attempts: 2,
      notBefore: Date.now() + 1e6,
    });
    q.setPaused('d', true);
    q.fail(entryId({ direction: 'download', key: K2, remote: 'c' }), 'boom');
    q.flush();
    // Only the final file is left (the tmp file was renamed over it).
    assert.deepEqual(readdirSync(t.path), ['transfers.json']);
    const q2 = new TransferQueue(t.path);
    assert.equal(q2.size, 1);
    const e = q2.all()[0]!;
    assert.equal(e.key, K1);
    assert.equal(e.file, 'a/b.bin');
    assert.equal(e.attempts, 2);
    assert.equal(e.notBefore, 0, 'backoff restarts fresh after a restart');
    assert.equal(q2.failed.length, 1);
    assert.equal(q2.isPaused('d'), true);
    assert.equal(q2.isPaused('c'), false);
    assert.equal(
      q2.recentlyFailed({ direction: 'download', key: K2, remote: 'c' }, Date.now() - 60_000),
      true,
    );
  } finally {
    t.cleanup();
  }
});

test('queue: corrupt or foreign file is ignored, not trusted', () => {
  const t = tmpDir();
  try {
    mkdirSync(t.path, { recursive: true });
    writeFileSync(join(t.path, 'transfers.json'), '{not json');
    assert.equal(new TransferQueue(t.path).size, 0);
    writeFileSync(
      join(t.path, 'transfers.json'),
      JSON.stringify({
        version: 1,
        queued: [
          { direction: 'upload', key: '-rf', remote: 'c', attempts: 0 },
          { direction: 'sideways', key: K1, remote: 'c' },
          { direction: 'upload', key: K1, remote: 'c', attempts: 'x', file: '../../x' },
        ],
      }),
    );
    const q = new TransferQueue(t.path);
    assert.equal(q.size, 1);
    assert.equal(q.all()[0]!.attempts, 0);
    assert.equal(q.all()[0]!.file, undefined);
  } finally {
    t.cleanup();
  }
});

test('queue: hold (cancel) removes all transfers of a key and blocks re-adding until unhold', () => {
  const t = tmpDir();
  try {
    const q = new TransferQueue(t.path);
    q.addMany([
      { direction: 'upload', key: K1, remote: 'c' },
      { direction: 'upload', key: K1, remote: 'd' },
      { direction: 'upload', key: K2, remote: 'c' },
    ]);
    assert.equal(q.hold(K1).length, 2);
    assert.equal(q.size, 1);
    assert.equal(q.addMany([{ direction: 'upload', key: K1, remote: 'c' }]), 0);
    q.unhold(K1);
    assert.equal(q.addMany([{ direction: 'upload', key: K1, remote: 'c' }]), 1);
    q.flush();
    assert.ok(existsSync(join(t.path, 'transfers.json')));
    assert.ok(readFileSync(join(t.path, 'transfers.json'), 'utf8').includes(K1));
  } finally {
    t.cleanup();
  }
});

test('queue: pause all and per remote', () => {
  const t = tmpDir();
  try {
    const q = new TransferQueue(t.path);
    q.setPaused('c', true);
    assert.equal(q.isPaused('c'), true);
    assert.equal(q.isPaused('d'), false);
    q.setPaused(undefined, true);
    assert.equal(q.isPaused('d'), true);
    q.setPaused(undefined, false);
    assert.equal(q.isPaused('c'), false, 'resume all clears per-remote pauses too');
  } finally {
    t.cleanup();
  }
});

test('queue: startNow lifts the backoff of that remote only, keeping attempts', () => {
  const t = tmpDir();
  try {
    const q = new TransferQueue(t.path);
    q.addMany([
      { direction: 'upload', key: K1, remote: 'cloud', attempts: 2, notBefore: 90_000 },
      { direction: 'upload', key: K1, remote: 'lan', attempts: 1, notBefore: 90_000 },
    ]);
    q.startNow('cloud', 1_000);
    const by = (r: string) => q.all().find((e) => e.remote === r)!;
    assert.deepEqual([by('cloud').notBefore, by('cloud').attempts], [1_000, 2]);
    assert.equal(by('lan').notBefore, 90_000);
  } finally {
    t.cleanup();
  }
});
