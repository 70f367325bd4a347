// A clone on a drive: an ext4 image, loop-mounted inside a private mount namespace
// (`unshare --mount --propagation private`, root only). With the image unmounted the remote is not
// available (told once, never retried, and nothing is written under the bare mount point); when it
// is mounted, the real `findmnt --poll -P` wakes the mount watcher, which tells its port at once,
// and the port (here standing in for the agent's wiring: git first) pushes the new commit.
//
// The file runs itself again inside the namespace (GAS_IN_MOUNT_NS=1): the outer test only checks
// that the inner run passed, so the mounts never reach the machine's own mount table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { git, initRepo, tmpDir, write, GIT_ENV } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { MountWatcher } from '../../src/agent/mounts.js';
import { Runner } from '../../src/git/runner.js';
import { readRemoteDefs } from '../../src/map/read.js';

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
      assert.match(r.stdout, /^# pass 1$/m, `the test inside the namespace did not run:\n${r.stdout}`);
      const measured = /# mount to in sync: (\d+) ms/.exec(r.stdout);
      if (measured) process.stdout.write(`# mount to in sync: ${measured[1]} ms\n`);
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
