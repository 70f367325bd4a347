// Flood sync through a cloud bridge: laptops A and B have no path between them, only a cloud C in
// the `transfer` group. Content added on A reaches C, B gets it from C, then C drops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
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
  uuidOf,
  whereis,
  scratch,
} from '../helpers/annex.js';

/** A and B each with the bare cloud C as remote `cloud`, C in the transfer group, all known to all. */
function bareTopology(root: string) {
  const C = initBareAnnex(join(root, 'C'), 'cloud');
  const A = initAnnex(join(root, 'A'), 'laptop A');
  const B = initAnnex(join(root, 'B'), 'laptop B');
  git(A, 'remote', 'add', 'cloud', C);
  git(B, 'remote', 'add', 'cloud', C);
  annex(A, 'group', 'cloud', 'transfer');
  return { A, B, C };
}

/** Exchange git and git-annex branches A -> C -> B -> C -> A (what the agents' git engines do). */
function syncAll(A: string, B: string): void {
  syncGit(A);
  syncGit(B);
  syncGit(A);
}

test('bridge (bare repo): A -> C -> B, then C drops its copy', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const { A, B, C } = bareTopology(d.path);
  write(A, 'photos/p.jpg', 'a photo\n');
  write(A, 'notes/n.txt', 'a note\n');
  const [kJpg, kTxt] = addAndCommit(A, ['photos/p.jpg', 'notes/n.txt']);
  syncAll(A, B);

  const a = await startService(A);
  d.defer(a.stop);
  // Nobody but B lacks the content, and B is beyond A's reach: the bridge carries both keys.
  await waitFor(() => hasKey(C, kJpg!) && hasKey(C, kTxt!), { timeoutMs: 20_000, what: 'content on C' });
  await waitFor(() => a.locationsChanged > 0, { what: 'A told the agent to push locations' });
  assert.equal(hasKey(B, kJpg!), false);

  syncAll(A, B); // A's location log reaches B through C.
  const b = await startService(B);
  d.defer(b.stop);
  await waitFor(() => hasKey(B, kJpg!) && hasKey(B, kTxt!), { timeoutMs: 20_000, what: 'content on B' });
  assert.equal(read(B, 'photos/p.jpg'), 'a photo\n');
  // B's next scan sees that everyone who wants the keys has them, and drops them from the bridge.
  await waitFor(() => !hasKey(C, kJpg!) && !hasKey(C, kTxt!), { timeoutMs: 20_000, what: 'C dropped both' });
  assert.ok(hasKey(A, kJpg!) && hasKey(A, kTxt!), 'A keeps its copies');
  // The location log in B says so too, and nothing failed.
  assert.ok(!whereis(B, kJpg!).includes(uuidOf(C)));
  assert.equal(b.svc.status().failed, 0);
  assert.equal(a.svc.status().failed, 0);
  assert.deepEqual(a.failures, []);
});

test('preferred content: B wants only *.jpg and gets exactly those', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const { A, B, C } = bareTopology(d.path);
  annex(B, 'wanted', 'here', 'include=*.jpg');
  write(A, 'p1.jpg', 'one\n');
  write(A, 'sub/p2.jpg', 'two\n');
  write(A, 'doc.txt', 'text\n');
  write(A, 'movie.mp4', 'movie\n');
  const [k1, k2, kTxt, kMp4] = addAndCommit(A, ['p1.jpg', 'sub/p2.jpg', 'doc.txt', 'movie.mp4']);
  syncAll(A, B);

  const a = await startService(A);
  d.defer(a.stop);
  await waitFor(() => hasKey(C, k1!) && hasKey(C, k2!), { timeoutMs: 20_000, what: 'jpgs on C' });
  await waitFor(() => a.svc.status().active.length === 0 && a.svc.status().queued === 0, { what: 'A idle' });
  assert.equal(hasKey(C, kTxt!), false, 'nobody beyond A wants doc.txt: the bridge does not carry it');
  assert.equal(hasKey(C, kMp4!), false);

  syncAll(A, B);
  const b = await startService(B);
  d.defer(b.stop);
  await waitFor(() => hasKey(B, k1!) && hasKey(B, k2!), { timeoutMs: 20_000, what: 'jpgs on B' });
  await waitFor(() => !hasKey(C, k1!) && !hasKey(C, k2!), { timeoutMs: 20_000, what: 'C dropped the jpgs' });
  await waitFor(() => b.svc.status().active.length === 0 && b.svc.status().queued === 0, { what: 'B idle' });
  assert.equal(hasKey(B, kTxt!), false);
  assert.equal(hasKey(B, kMp4!), false);
  assert.deepEqual(
    annex(B, 'find', '--in=here').trim().split('\n').sort(),
    ['p1.jpg', 'sub/p2.jpg'],
    'B has exactly the jpgs',
  );
});

test(
  'bridge (directory special remote): A -> dir -> B, then the dir copy is dropped',
  { timeout: 60_000 },
  async (t) => {
    const d = scratch(t);
    // Git travels through a bare hub that wants no content ("nothing"), so content can only go
    // through the directory special remote.
    const hub = initBareAnnex(join(d.path, 'hub'), 'git hub');
    const dir = join(d.path, 'cloud-dir');
    mkdirSync(dir);
    const A = initAnnex(join(d.path, 'A'), 'laptop A');
    const B = initAnnex(join(d.path, 'B'), 'laptop B');
    for (const r of [A, B]) git(r, 'remote', 'add', 'hub', hub);
    annex(A, 'wanted', 'hub', 'nothing');
    annex(A, 'initremote', '--quiet', 'cloud', 'type=directory', `directory=${dir}`, 'encryption=none');
    annex(A, 'group', 'cloud', 'transfer');
    write(A, 'a.bin', 'content from A\n');
    const [k] = addAndCommit(A, ['a.bin']);
    syncGit(A);
    syncGit(B);
    annex(B, 'enableremote', 'cloud', `directory=${dir}`);
    syncGit(B);
    syncGit(A);

    const a = await startService(A);
    d.defer(a.stop);
    const cloudUuid = git(A, 'config', 'remote.cloud.annex-uuid').trim();
    await waitFor(() => whereis(A, k!).includes(cloudUuid), {
      timeoutMs: 20_000,
      what: 'content on the directory remote (per A)',
    });
    await waitFor(() => a.locationsChanged > 0, { what: 'location change signalled' });
    syncGit(A);
    syncGit(B);
    const b = await startService(B);
    d.defer(b.stop);
    await waitFor(() => hasKey(B, k!), { timeoutMs: 20_000, what: 'content on B' });
    // Then B drops it from the directory remote: only A and B hold it.
    await waitFor(
      () => {
        const w = whereis(B, k!);
        return !w.includes(cloudUuid) && w.includes(uuidOf(A)) && w.includes(uuidOf(B));
      },
      { timeoutMs: 20_000, what: 'directory remote copy dropped' },
    );
    assert.equal(readdirCount(dir), 0, 'no content left in the directory remote');
    assert.equal(read(B, 'a.bin'), 'content from A\n');
  },
);

function read(repo: string, rel: string): string {
  return readFileSync(join(repo, rel), 'utf8');
}

function readdirCount(dir: string): number {
  let n = 0;
  const walk = (p: string): void => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(p, e.name));
      else n++;
    }
  };
  walk(dir);
  return n;
}
