// Flood sync takes the cheapest holder even for a download queued before that holder had the key
// (issue 11, item 6): laptop A queued a key from the cloud (cost 1000) while its LAN peer (cost 100)
// lacked it; the peer then got it, and A's next scan moves the queued download to the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { git, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import {
  addAndCommit,
  annex,
  hasKey,
  initAnnex,
  initBareAnnex,
  startService,
  syncGit,
  scratch,
} from '../helpers/annex.js';

test('a queued download moves to a cheaper holder that got the key since', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const C = initBareAnnex(join(d.path, 'C'), 'cloud');
  const P = initAnnex(join(d.path, 'P'), 'LAN peer');
  const A = initAnnex(join(d.path, 'A'), 'laptop A');
  git(P, 'remote', 'add', 'cloud', C);
  git(A, 'remote', 'add', 'cloud', C);
  git(A, 'remote', 'add', 'peer', P);
  git(A, 'config', 'remote.cloud.annex-cost', '1000');
  git(A, 'config', 'remote.peer.annex-cost', '100');
  // The key is on the cloud alone.
  write(P, 'k.bin', 'content from far away\n');
  const [key] = addAndCommit(P, ['k.bin']);
  annex(P, 'move', '--quiet', '--to=cloud', 'k.bin');
  syncGit(P);
  syncGit(A);
  assert.equal(hasKey(P, key!), false);

  const a = await startService(A, { scanOnStart: false });
  d.defer(a.stop);
  // The cloud's lane is busy elsewhere (here: paused), so the download from it waits in the queue.
  a.svc.pause('cloud');
  a.svc.requestScan();
  await waitFor(() => a.svc.status().queued === 1, { what: 'the download from the cloud queued' });

  // Meanwhile the peer got the key, and A learns of it.
  annex(P, 'get', '--quiet', 'k.bin');
  syncGit(P);
  syncGit(A);
  a.svc.requestScan();
  // Only the peer can serve it now (the cloud stays paused): A's queued download was moved there.
  await waitFor(() => hasKey(A, key!), { timeoutMs: 20_000, what: 'the content on A, from the peer' });
  assert.equal(a.svc.status().failed, 0);
  assert.deepEqual(a.failures, []);
});
