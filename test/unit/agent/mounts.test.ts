import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { AvailableRemotes, MountWatcher, type MountPort } from '../../../src/agent/mounts.js';
import type { RemoteDef } from '../../../src/map/costs.js';
import type { FsProbe } from '../../../src/map/mounts.js';
import { tmpDir } from '../../helpers/repos.js';

const ROOT = '22 1 259:2 / / rw - ext4 /dev/root rw';
const DRIVE = '90 22 8:17 / /media/u/usb rw - ext4 /dev/sdb1 rw';

const remotes: RemoteDef[] = [
  {
    name: 'drive',
    uuid: null,
    url: '/media/u/usb/repo',
    type: 'git-local',
    configuredCost: null,
    path: '/media/u/usb/repo',
    ignore: false,
  },
  {
    name: 'cloud',
    uuid: null,
    url: 'ssh://h/r',
    type: 'git-ssh',
    configuredCost: null,
    path: null,
    ignore: false,
  },
];

/** A world with one drive that can be in or out; the port records its calls and resolves waiters. */
function world() {
  const state = { in: false };
  const calls: string[] = [];
  const waiters: Array<{ what: string; times: number; resolve: () => void }> = [];
  const port: MountPort = {
    available: (r) => record(`up ${r}`),
    unavailable: (r) => record(`down ${r}`),
  };
  function record(what: string) {
    calls.push(what);
    for (const w of waiters) if (count(w.what) >= w.times) w.resolve();
  }
  const fs: FsProbe = {
    exists: (p) => state.in && p === '/media/u/usb/repo/.git',
    hasEntries: () => state.in,
  };
  const count = (what: string) => calls.filter((c) => c === what).length;
  /** Resolves once the port was called with `what` `times` times in all. */
  const reached = (what: string, times = 1) =>
    count(what) >= times
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ what, times, resolve }));
  const readMountinfo = () => (state.in ? `${ROOT}\n${DRIVE}\n` : `${ROOT}\n`);
  return { state, calls, port, fs, reached, readMountinfo };
}

const log = pino({ level: 'silent' });

test('a drive out at start is told once; mounting it makes it available (a wake-up, then mountinfo diffed)', async () => {
  const w = world();
  const shared = new AvailableRemotes();
  const m = new MountWatcher({
    log,
    port: w.port,
    availability: shared,
    remotes: () => Promise.resolve(remotes),
    readMountinfo: w.readMountinfo,
    fs: w.fs,
    findmnt: '/nonexistent/findmnt',
    pollMs: 3_600_000,
  });
  await m.start({ fail: (e) => assert.fail(String(e)) });
  assert.deepEqual(w.calls, ['down drive']);
  assert.deepEqual(shared.list(), ['drive'], 'the pusher and merger see it away before they start');
  assert.equal(m.isAvailable('drive'), false);
  assert.equal(m.isAvailable('cloud'), true, 'a network remote is never "unavailable" here');
  assert.deepEqual(m.unavailableRemotes(), ['drive']);

  w.state.in = true;
  m.poke();
  await w.reached('up drive');
  assert.equal(m.isAvailable('drive'), true);
  assert.equal(shared.isAvailable('drive'), true);

  w.state.in = false;
  m.poke();
  await w.reached('down drive', 2);
  assert.deepEqual(w.calls, ['down drive', 'up drive', 'down drive']);
  await m.stop();
});

test('each findmnt --poll line is a wake-up', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  // A findmnt that prints one event line as soon as it starts, then waits as the real one does.
  const fake = join(tmp.path, 'findmnt');
  writeFileSync(fake, '#!/bin/sh\necho \'ACTION="mount" TARGET="/media/u/usb"\'\nexec sleep 600\n');
  chmodSync(fake, 0o755);
  const w = world();
  let reads = 0;
  const m = new MountWatcher({
    log,
    port: w.port,
    remotes: () => Promise.resolve(remotes),
    // The first reading (at start) has the drive out; by the time findmnt speaks, it is in.
    readMountinfo: () => {
      if (reads++ > 0) w.state.in = true;
      return w.readMountinfo();
    },
    fs: w.fs,
    findmnt: fake,
    pollMs: 3_600_000,
  });
  await m.start({ fail: (e) => assert.fail(String(e)) });
  await w.reached('up drive');
  await m.stop();
  assert.deepEqual(w.calls, ['down drive', 'up drive']);
});

test('where findmnt is missing, mountinfo is reread on a timer', async () => {
  const w = world();
  const m = new MountWatcher({
    log,
    port: w.port,
    remotes: () => Promise.resolve(remotes),
    readMountinfo: w.readMountinfo,
    fs: w.fs,
    findmnt: '/nonexistent/findmnt',
    pollMs: 5,
  });
  await m.start({ fail: (e) => assert.fail(String(e)) });
  w.state.in = true;
  // No poke: only the fallback timer can notice.
  await w.reached('up drive');
  await m.stop();
});
