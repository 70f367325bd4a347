// Files still open for writing: the /proc reader (with real descriptors opened by this process), the
// pure decisions (table tests), and the committer holding such a file until its writer closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, realpathSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { flagsWrite, openForWrite } from '../../../src/agent/open-files.js';
import {
  needsOpenCheck,
  openWriteVerdict,
  openRecheckDelay,
  DEFAULT_OPEN_WRITE_POLICY as P,
} from '../../../src/agent/commit-policy.js';
import { Committer } from '../../../src/agent/committer.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { fakeSync } from '../../helpers/fake-sync.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor, staysTheSame } from '../../helpers/wait.js';

test('flagsWrite: the access mode in an fdinfo flags line (octal)', () => {
  const rows: Array<[string, boolean]> = [
    ['pos:\t0\nflags:\t0100000\nmnt_id:\t1\n', false], // O_RDONLY|O_LARGEFILE
    ['pos:\t0\nflags:\t0100001\n', true], // O_WRONLY
    ['pos:\t0\nflags:\t0100002\n', true], // O_RDWR
    ['pos:\t0\nflags:\t02102001\n', true], // O_WRONLY|O_APPEND|O_CLOEXEC…
    ['pos:\t0\nflags:\t0100003\n', false], // 3 is not a valid access mode
    ['nothing here', false],
  ];
  for (const [text, want] of rows) assert.equal(flagsWrite(text), want, JSON.stringify(text));
});

test('openForWrite: finds a file this process holds open for writing, not one open for reading', () => {
  const dir = tmpDir();
  try {
    const root = realpathSync(dir.path);
    const w = join(root, 'w.bin');
    const r = join(root, 'r.bin');
    const closed = join(root, 'closed.bin');
    writeFileSync(r, 'x');
    writeFileSync(closed, 'x');
    const fdw = openSync(w, 'a');
    const fdr = openSync(r, 'r');
    try {
      const t0 = performance.now();
      const s = openForWrite([w, r, closed]);
      const ms = performance.now() - t0;
      assert.deepEqual([...s.writing], [w]);
      assert.ok(s.processes >= 1 && s.descriptors >= 2, `${s.processes} processes, ${s.descriptors} fds`);
      // For the record (see OpenWritePolicy.recentMs): one sweep of this machine.
      console.log(`sweep: ${s.processes} processes, ${s.descriptors} descriptors, ${ms.toFixed(1)} ms`);
    } finally {
      closeSync(fdw);
      closeSync(fdr);
    }
    assert.deepEqual([...openForWrite([w]).writing], [], 'closed: not open any more');
    assert.deepEqual([...openForWrite([]).writing], []);
  } finally {
    dir.cleanup();
  }
});

test('needsOpenCheck and openWriteVerdict: table', () => {
  const now = 1_000_000;
  const checks: Array<[string, { size: number | null; mtimeMs: number | null }, boolean]> = [
    ['a deletion', { size: null, mtimeMs: null }, false],
    ['just written', { size: 10, mtimeMs: now - 30 }, true],
    ['written just inside the window', { size: 10, mtimeMs: now - P.recentMs + 1 }, true],
    ['old small file (start-up scan)', { size: 10, mtimeMs: now - P.recentMs }, false],
    ['old but big', { size: P.bigBytes, mtimeMs: now - 3_600_000 }, true],
  ];
  for (const [name, st, want] of checks) assert.equal(needsOpenCheck(st, now), want, name);
  const verdicts: Array<[string, boolean, number | undefined, ReturnType<typeof openWriteVerdict>]> = [
    ['closed', false, undefined, 'commit'],
    ['closed after a hold', false, now - 1000, 'commit'],
    ['open, first seen', true, undefined, 'hold'],
    ['open, held a while', true, now - P.maxHoldMs + 1, 'hold'],
    ['open for too long', true, now - P.maxHoldMs, 'commit-anyway'],
  ];
  for (const [name, open, since, want] of verdicts)
    assert.equal(openWriteVerdict(open, since, now), want, name);
});

test('committer: a file held open for writing is committed once, after its writer closes it', async () => {
  const dir = tmpDir();
  const f = fakeSync(dir.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  await c.start({ fail: () => {} } as never);
  const path = join(dir.path, 'slow.bin');
  const fd = openSync(path, 'w');
  try {
    // A writer that pauses longer than the quiet period between its chunks.
    for (let i = 0; i < 3; i++) {
      writeSync(fd, Buffer.alloc(1024, i));
      c.note('slow.bin');
      await staysTheSame(() => f.commits.length, { forMs: 200, what: 'commits while the file is open' });
    }
    assert.equal(f.commits.length, 0, 'nothing committed while a writer has the file open');
    // A flush (a stop, a merge) does not commit it either: it stays pending.
    await c.flush();
    assert.equal(f.commits.length, 0, 'a flush leaves a file being written alone');
    assert.equal(c.pendingCount, 1);
  } finally {
    closeSync(fd);
  }
  // Closed: the next look (at most recheckMs later, with no new event) commits it.
  await waitFor(() => f.commits.length === 1, { what: 'the commit after close', timeoutMs: 10_000 });
  assert.deepEqual(f.commits[0], ['slow.bin']);
  await c.stop();
  dir.cleanup();
});

test('committer: a file kept open longer than the hold limit is committed anyway', async () => {
  const dir = tmpDir();
  const f = fakeSync(dir.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    openPolicy: { ...P, maxHoldMs: 600, recheckMs: 100 },
  });
  await c.start({ fail: () => {} } as never);
  const fd = openSync(join(dir.path, 'daemon.log'), 'a');
  try {
    writeSync(fd, 'line\n');
    c.note('daemon.log');
    await waitFor(() => f.commits.length === 1, { what: 'the commit after the hold ran out' });
    assert.deepEqual(f.commits[0], ['daemon.log']);
  } finally {
    closeSync(fd);
    await c.stop();
    dir.cleanup();
  }
});

test('openRecheckDelay: soon at first, then as long as held, up to recheckMs', () => {
  const rows: Array<[string, number, number]> = [
    ['just found open', 0, P.firstRecheckMs],
    ['held a little', 20, P.firstRecheckMs],
    ['held 120 ms: as long again', 120, 120],
    ['held 300 ms', 300, 300],
    ['held long: the ceiling', 60_000, P.recheckMs],
  ];
  for (const [name, heldFor, want] of rows) assert.equal(openRecheckDelay(heldFor), want, name);
});
