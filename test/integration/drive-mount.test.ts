// A clone on a drive: an ext4 image, loop-mounted inside a private mount namespace
// (`unshare --mount --propagation private`, root only). With the image unmounted the remote is not
// available (told once, never retried, and nothing is written under the bare mount point); when it
// is mounted, the real `findmnt --poll -P` wakes the mount watcher, which tells its port at once,
// and the port (here standing in for the agent's wiring: git first) pushes the new commit. Then, in
// annex mode with the agent's own wiring (app/drives.ts) and real git-annex: the drive is unmounted
// in the middle of a 200 MB upload; nothing is lost on either side, nothing is written under the
// bare mount point, and once it is mounted again the upload resumes from where it was cut.
//
// The file runs itself again inside the namespace (GAS_IN_MOUNT_NS=1): the outer test only checks
// that the inner run passed, so the mounts never reach the machine's own mount table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { git, initRepo, tmpDir, write, GIT_ENV } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { MountWatcher } from '../../src/agent/mounts.js';
import { Runner } from '../../src/git/runner.js';
import { readRemoteDefs } from '../../src/map/read.js';
import { AvailableRemotes } from '../../src/agent/mounts.js';
import { discover } from '../../src/git/repo.js';
import { TransferService } from '../../src/transfer/service.js';
import { drivesWatch } from '../../src/app/drives.js';
import {
  addAndCommit,
  annex,
  hasKey,
  initAnnex,
  initBareAnnex,
  syncGit,
  writeBig,
} from '../helpers/annex.js';

const INSIDE = process.env.GAS_IN_MOUNT_NS === '1';

/** Why this machine cannot run the test, or null. */
function cannot(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a loop mount in a private mount namespace)';
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'losetup', '-f'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    return `unshare --mount or a loop device is not permitted here: ${probe.stderr.trim()}`;
  try {
    execFileSync('findmnt', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'findmnt (util-linux) is not installed';
  }
  return null;
}

if (!INSIDE) {
  const why = cannot();
  if (why) process.stdout.write(`# drive test skipped: ${why}\n`);
  test(
    'a drive: not available while out, synced at once when mounted (in a private mount namespace)',
    { skip: why ?? false },
    () => {
      const r = spawnSync(
        'unshare',
        ['--mount', '--propagation', 'private', process.execPath, '--test', fileURLToPath(import.meta.url)],
        // Without NODE_TEST_CONTEXT, the inner runner reports in TAP, not to this runner.
        {
          env: { ...process.env, NODE_TEST_CONTEXT: undefined, GAS_IN_MOUNT_NS: '1' },
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      assert.equal(r.status, 0, `the run inside the namespace failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^# pass 2$/m, `the tests inside the namespace did not run:\n${r.stdout}`);
      for (const m of r.stdout.matchAll(/# (mount to in sync: \d+ ms|resumed: [^\n]*)/g))
        process.stdout.write(`# ${m[1]}\n`);
    },
  );
} else {
  test('inside the namespace: out, then mounted, then out again', async (t) => {
    const tmp = tmpDir();
    t.after(() => {
      spawnSync('umount', [join(tmp.path, 'media')]);
      tmp.cleanup();
    });
    const img = join(tmp.path, 'drive.img');
    const media = join(tmp.path, 'media');
    mkdirSync(media);
    execFileSync('truncate', ['-s', '32M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img]);
    const mount = () => execFileSync('mount', ['-o', 'loop', img, media]);
    const umount = () => execFileSync('umount', [media]);

    const laptop = initRepo(join(tmp.path, 'laptop'));
    write(laptop, 'a.txt', 'a\n');
    git(laptop, 'add', '.');
    git(laptop, 'commit', '-q', '-m', 'first');
    const onDrive = join(media, 'repo.git');
    mount();
    git(tmp.path, 'clone', '-q', '--bare', laptop, onDrive);
    umount();
    git(laptop, 'remote', 'add', 'drive', onDrive);

    const runner = new Runner(laptop);
    const events: string[] = [];
    let pushedAt = 0;
    const watcher = new MountWatcher({
      log: pino({ level: 'silent' }),
      remotes: () => readRemoteDefs(runner, laptop),
      port: {
        available: (r) => {
          events.push(`up ${r}`);
          // What the agent's wiring does first: git (push) before content.
          runner.git(['push', '-q', r, 'main']).then(
            () => (pushedAt = Date.now()),
            (e: unknown) => events.push(`push failed: ${String(e)}`),
          );
        },
        unavailable: (r) => events.push(`down ${r}`),
      },
      // The fallback timer must not be what notices: an hour.
      pollMs: 3_600_000,
    });
    await watcher.start({ fail: (e) => assert.fail(String(e)) });
    t.after(() => watcher.stop());
    assert.deepEqual(events, ['down drive'], 'out at start: told once');
    assert.equal(watcher.isAvailable('drive'), false);
    assert.deepEqual(readdirSync(media), [], 'nothing written under the bare mount point');

    write(laptop, 'b.txt', 'b\n');
    git(laptop, 'add', '.');
    git(laptop, 'commit', '-q', '-m', 'second');
    const head = git(laptop, 'rev-parse', 'HEAD').trim();
    const mountedAt = Date.now();
    mount();
    await waitFor(() => pushedAt > 0, {
      timeoutMs: 5_000,
      what: () => `the push to the drive (${events.join(', ')})`,
    });
    assert.equal(
      execFileSync('git', ['-C', onDrive, 'rev-parse', 'main'], { env: GIT_ENV, encoding: 'utf8' }).trim(),
      head,
    );
    process.stdout.write(`# mount to in sync: ${pushedAt - mountedAt} ms\n`);
    assert.equal(watcher.isAvailable('drive'), true);

    umount();
    await waitFor(() => events.includes('down drive') && events.lastIndexOf('down drive') > 0, {
      timeoutMs: 5_000,
      what: () => `the drive told away again (${events.join(', ')})`,
    });
    assert.deepEqual(events, ['down drive', 'up drive', 'down drive']);
  });
}

/** The sectors (512 bytes) written to the block device behind a mount point, from /sys. */
function sectorsWritten(mountPoint: string): number {
  const dev = execFileSync('findmnt', ['-n', '-o', 'SOURCE', mountPoint], { encoding: 'utf8' }).trim();
  const stat = readFileSync(`/sys/block/${basename(dev)}/stat`, 'utf8')
    .trim()
    .split(/\s+/);
  return Number(stat[6]);
}

if (INSIDE) {
  test('inside the namespace: unmounted in the middle of a 200 MB upload, resumed when mounted again', async (t) => {
    const SIZE = 200 * 1024 * 1024;
    const tmp = tmpDir();
    const img = join(tmp.path, 'drive.img');
    const media = join(tmp.path, 'media');
    mkdirSync(media);
    t.after(() => {
      spawnSync('umount', ['-l', media]);
      tmp.cleanup();
    });
    execFileSync('truncate', ['-s', '512M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img]);
    const mount = () => execFileSync('mount', ['-o', 'loop', img, media]);
    const laptop = initAnnex(join(tmp.path, 'laptop'), 'laptop');
    mount();
    const onDrive = initBareAnnex(join(media, 'repo.git'), 'drive');
    git(laptop, 'remote', 'add', 'drive', onDrive);
    writeBig(join(laptop, 'big.bin'), SIZE);
    const [key] = addAndCommit(laptop, ['big.bin']);
    syncGit(laptop);

    // The agent's own wiring of the mount watcher (git stood in for: content is what is tested).
    const info = await discover(laptop);
    const runner = new Runner(laptop);
    const log = pino({ level: 'silent' });
    // Slow enough that the unmount lands mid-way (about 5 s for the whole file).
    const svc = new TransferService({
      runner,
      repoDir: laptop,
      autosyncDir: join(laptop, '.git', 'autosync'),
      log,
      bwlimit: { drive: '40MiB' },
      onLocationsChanged: () => undefined,
    });
    const failures: unknown[] = [];
    const away = new AvailableRemotes();
    const watcher = drivesWatch({
      info,
      runner,
      log,
      away,
      merger: { fetchAndMerge: async () => undefined },
      pusher: { request: () => undefined },
      transfers: svc,
    });
    await watcher.start({ fail: (e) => failures.push(e) });
    t.after(() => watcher.stop());
    await svc.start({ fail: (e) => failures.push(e) });
    t.after(() => svc.stop());

    await waitFor(() => (svc.status().active[0]?.bytes ?? 0) >= SIZE * 0.4, {
      timeoutMs: 30_000,
      what: 'the upload 40 % through',
    });
    // Pulled out: a lazy unmount, as the upload's open files keep a plain one busy.
    execFileSync('umount', ['-l', media]);
    await waitFor(() => !away.isAvailable('drive') && svc.status().active.length === 0, {
      timeoutMs: 10_000,
      what: 'the drive away and its upload stopped',
    });
    // The image is let go once git-annex has closed its files: then its partial file can be read.
    await waitFor(() => execFileSync('losetup', ['-j', img], { encoding: 'utf8' }).trim() === '', {
      timeoutMs: 10_000,
      what: 'the loop device released',
    });
    assert.deepEqual(readdirSync(media), [], 'nothing written under the bare mount point');
    assert.equal(svc.status().failed, 0, 'the cut upload is not a failure');
    assert.equal(svc.status().queued, 1, 'the upload waits in the queue');
    const stat = execFileSync('debugfs', ['-R', `stat /repo.git/annex/tmp/${key}`, img], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const partial = Number(/Size: (\d+)/.exec(stat)?.[1] ?? 0);
    assert.ok(partial >= SIZE * 0.3 && partial < SIZE, `the partial upload is kept on the drive: ${partial}`);
    // Nothing lost here: the laptop's copy is whole.
    annex(laptop, 'fsck', '--quiet', 'big.bin');

    mount();
    const before = sectorsWritten(media);
    await waitFor(() => hasKey(onDrive, key!), { timeoutMs: 30_000, what: 'the content on the drive' });
    execFileSync('sync');
    const written = (sectorsWritten(media) - before) * 512;
    // Resumed: what is written after the mount is the rest, not the whole file again (a restart
    // from zero writes at least SIZE; 16 MiB of slack covers the journal and metadata).
    assert.ok(
      written < SIZE - partial + 16 * 1024 * 1024,
      `written after the mount: ${written}, partial ${partial}`,
    );
    annex(laptop, 'fsck', '--quiet', '--from=drive', 'big.bin');
    assert.deepEqual(failures, []);
    process.stdout.write(`# resumed: ${partial} bytes kept, ${written} written after the mount\n`);
  });
}
