// Two services in the same repository push the same key to the same remote at the same time: git-annex
// transfer locks (read by both) make it one transfer. Checked by sampling the lock holders the whole
// time: exactly one process ever holds the upload lock for the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { git } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import {
  addAndCommit,
  annex,
  hasKey,
  initAnnex,
  initBareAnnex,
  startService,
  writeBig,
  scratch,
} from '../helpers/annex.js';
import { EventBus } from '../../src/core/bus.js';
import { TransferDir } from '../../src/transfer/transferinfo.js';

const SIZE = 100 * 1024 * 1024;

test('two services pushing the same key at once make one transfer', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const C = initBareAnnex(join(d.path, 'C'), 'cloud');
  const A = initAnnex(join(d.path, 'A'), 'laptop A');
  git(A, 'remote', 'add', 'cloud', C);
  writeBig(join(A, 'big.bin'), SIZE);
  const [key] = addAndCommit(A, ['big.bin']);
  annex(A, 'sync', '--no-content', '--quiet');
  const cloudUuid = git(A, 'config', 'remote.cloud.annex-uuid').trim();

  const td = new TransferDir(join(A, '.git', 'annex'));
  const holders = new Set<number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const r = td.running('upload', cloudUuid, key!);
      if (r?.pid) holders.add(r.pid);
      await new Promise((res) => setTimeout(res, 5));
    }
  })();

  const events: string[] = [];
  const mk = (name: string) => {
    const bus = new EventBus();
    bus.on('transferChanged', (e) => events.push(`${name}:${e.state}`));
    // A bandwidth limit stretches the transfer to a few seconds so the two surely overlap.
    return startService(A, {
      bus,
      scanOnStart: false,
      autosyncDir: join(A, '.git', `autosync-${name}`),
      bwlimit: { cloud: '50MiB' },
    });
  };
  const [s1, s2] = await Promise.all([mk('one'), mk('two')]);
  d.defer(s1.stop);
  d.defer(s2.stop);
  // Both plan the upload while paused, then start in the same tick: a real race for the lock.
  for (const s of [s1, s2]) {
    s.svc.pause();
    s.svc.requestScan();
  }
  await waitFor(() => s1.svc.status().queued === 1 && s2.svc.status().queued === 1, { what: 'both queued' });
  s1.svc.resume();
  s2.svc.resume();

  await waitFor(() => hasKey(C, key!), { timeoutMs: 30_000, what: 'content on C' });
  const objPath = annex(C, 'contentlocation', key!).trim();
  const firstMtime = statSync(join(C, objPath)).mtimeMs;
  const idle = () => [s1, s2].every((s) => s.svc.status().active.length === 0 && s.svc.status().queued === 0);
  await waitFor(idle, { timeoutMs: 20_000, what: 'both services idle' });
  sampling = false;
  await sampler;

  console.log(`dedup: lock holders ${holders.size}; events ${events.join(' ')}`);
  assert.equal(holders.size, 1, `one process held the upload lock, saw: ${[...holders].join(',')}`);
  assert.equal(statSync(join(C, objPath)).mtimeMs, firstMtime, 'the object on C was not written again');
  // The loser noticed: either it saw the lock before starting, or git-annex refused it the lock.
  assert.ok(
    events.some((e) => e.endsWith(':deferred')),
    events.join(' '),
  );
  assert.equal(s1.svc.status().failed + s2.svc.status().failed, 0, events.join(' '));
});
