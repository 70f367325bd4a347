// The committer and files the agent wrote itself (git-annex filling an unlocked file with downloaded
// content): not staged again while they are as git-annex left them, committed as usual once a
// person changes them. A stand-in for GitSync records what reaches a commit; no git is spawned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Committer } from '../../../src/agent/committer.js';
import { OwnWrites } from '../../../src/agent/committer-own.js';
import { statOf } from '../../../src/agent/committer-raw.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { fakeSync } from '../../helpers/fake-sync.js';
import { tmpDir } from '../../helpers/repos.js';

test('a file git-annex filled is not staged again; a later edit to it is', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  const file = join(tmp.path, 'photo.jpg');

  // The event may come before the download is reported ...
  writeFileSync(file, 'downloaded content');
  c.note('photo.jpg');
  c.ownWrite('photo.jpg');
  // ... or after it, more than once.
  writeFileSync(join(tmp.path, 'mine.txt'), 'a person wrote this');
  c.note('photo.jpg');
  c.note('mine.txt');
  await c.flush();
  assert.deepEqual(f.commits, [['mine.txt']], 'only the person’s file reaches a commit');

  // A person edits the downloaded file: size or mtime moves, so it is committed.
  writeFileSync(file, 'edited by a person');
  utimesSync(file, new Date(), new Date(Date.now() + 2000));
  c.note('photo.jpg');
  await c.flush();
  assert.deepEqual(f.commits, [['mine.txt'], ['photo.jpg']]);
});

test('a write that lands before the download is reported is not taken for git-annex’s', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  // git-annex filled notes.txt with 9 bytes; a person appended to it at once, and only then did the
  // lane's answer come in.
  writeFileSync(join(tmp.path, 'notes.txt'), 'buy milk\nand bread\n');
  c.note('notes.txt');
  c.ownWrite('notes.txt', 'buy milk\n'.length);
  await c.flush();
  assert.deepEqual(f.commits, [['notes.txt']], 'the edit is committed');
});

test('the own-write record: a fill of another size is not recorded, and each fill is handed over once', (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const own = new OwnWrites(tmp.path);
  writeFileSync(join(tmp.path, 'a.bin'), '12345');
  writeFileSync(join(tmp.path, 'b.bin'), '123');
  own.filled('a.bin', 5);
  own.filled('b.bin', 5); // a write came after git-annex's: not its fill
  own.filled('gone.bin'); // nothing there
  assert.deepEqual(
    own.takeFilled().map(([rel, st]) => [rel, st.size]),
    [['a.bin', 5]],
  );
  assert.deepEqual(own.takeFilled(), [], 'handed over once');
  // A fill changed before the committer's pass looked is no fill any more.
  writeFileSync(join(tmp.path, 'c.bin'), 'xy');
  own.filled('c.bin');
  writeFileSync(join(tmp.path, 'c.bin'), 'edited by a person');
  utimesSync(join(tmp.path, 'c.bin'), new Date(), new Date(Date.now() + 2000));
  assert.equal(own.stillOurs('c.bin', statOf(join(tmp.path, 'c.bin'))), false);
  assert.deepEqual(own.takeFilled(), []);
});
