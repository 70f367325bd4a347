// A lane that ends in the middle of a download (a stop, pause or cancel kills it; or it crashes)
// may have been filling the file: git-annex moves the content into the annex, unlinks the pointer
// file, then renames the content in. Killed in between, it left the file missing, nothing put it
// back, and the stop's commit recorded it as deleted on every peer (seen at the stop of `demo
// --annex`). The pool writes such a file again from the index. A stand-in for git-annex takes the
// file away as the real one does and then hangs, so the stop always lands in that gap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { annex, initAnnex, initBareAnnex, scratch, startService, syncGit } from '../helpers/annex.js';

/**
 * A with `files` added unlocked and copied to the cloud; B a clone of the cloud without their
 * content (their work-tree files hold git-annex's pointers). Returns B.
 */
function cloneWithoutContent(root: string, files: Record<string, string>): string {
  const cloud = initBareAnnex(join(root, 'cloud'), 'cloud');
  const A = initAnnex(join(root, 'A'), 'A');
  git(A, 'remote', 'add', 'cloud', cloud);
  for (const [f, text] of Object.entries(files)) write(A, f, text);
  // Unlocked, as the agent adds files (git-annex's clean filter), not a locked symlink.
  git(A, '-c', 'annex.largefiles=anything', 'add', ...Object.keys(files));
  git(A, 'commit', '-q', '-m', 'add');
  annex(A, 'copy', '--quiet', '--to=cloud', ...Object.keys(files));
  syncGit(A);
  const B = join(root, 'B');
  git(root, 'clone', '-q', '-b', 'main', cloud, B);
  annex(B, 'init', '-q', 'B');
  syncGit(B);
  return B;
}

test(
  'a file a killed lane was filling is put back from the index, not left missing',
  { timeout: 60_000 },
  async (t) => {
    const d = scratch(t);
    const B = cloneWithoutContent(d.path, { 'lists/item.txt': 'item\n' });
    const pointer = readFileSync(join(B, 'lists/item.txt'), 'utf8');
    assert.match(pointer, /^\/annex\/objects\//);
    // git-annex's side of a fill, stopped in its gap: the key comes in, the file goes, nothing more.
    const marker = join(d.path, 'taken');
    const fake = join(d.path, 'fake-annex');
    writeFileSync(fake, `#!/bin/sh\nread key\nrm -f lists/item.txt\ntouch '${marker}'\nexec sleep 600\n`);
    chmodSync(fake, 0o755);
    const filling: string[][] = [];
    const b = await startService(B, { annexBinary: fake });
    d.defer(b.stop);
    await waitFor(() => existsSync(marker), { what: 'the stand-in to take the file away' });
    filling.push([...b.svc.fillingFiles()]);
    await b.stop();
    assert.deepEqual(filling, [['lists/item.txt']], 'counted as being filled while the lane ran');
    assert.equal(
      readFileSync(join(B, 'lists/item.txt'), 'utf8'),
      pointer,
      'put back (its pointer: no content here)',
    );
    assert.equal(git(B, 'status', '--porcelain').trim(), '', 'nothing for a commit to record');
  },
);

test(
  'a file pipelined behind the one the killed lane was filling is not put back: its absence is the user’s deletion',
  { timeout: 60_000 },
  async (t) => {
    const d = scratch(t);
    const B = cloneWithoutContent(d.path, { 'lists/one.txt': 'one\n', 'lists/two.txt': 'two\n' });
    // A git-annex that takes the first key and works on it for ever; the second waits in its pipe.
    const marker = join(d.path, 'started');
    const fake = join(d.path, 'fake-annex');
    writeFileSync(fake, `#!/bin/sh\nread key\ntouch '${marker}'\nexec sleep 600\n`);
    chmodSync(fake, 0o755);
    // One lane, so both keys go to it: one running, one pipelined behind it.
    const b = await startService(B, { annexBinary: fake, slots: 1 });
    d.defer(b.stop);
    await waitFor(() => existsSync(marker) && b.svc.fillingFiles().size === 2, {
      what: 'both files handed to the one lane',
    });
    // The user deletes both files while the lane runs, then the lane is killed by a stop.
    for (const f of ['lists/one.txt', 'lists/two.txt']) rmSync(join(B, f));
    await b.stop();
    const back = ['lists/one.txt', 'lists/two.txt'].filter((f) => existsSync(join(B, f)));
    // The running one may have been mid-fill and is put back (its absence cannot be told from
    // git-annex's gap); the pipelined one never started, so its deletion stands.
    assert.equal(back.length, 1, `exactly one file put back, not ${JSON.stringify(back)}`);
  },
);
