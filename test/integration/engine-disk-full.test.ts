// A full disk is a transient failure, not a name git refuses: the edit stays pending, status says
// "disk full (ENOSPC) …; retrying in N s", and it is committed once space is freed, with no other
// event. The repository's .git/objects lives on a 2 MiB tmpfs mounted in the agent's own private
// mount namespace (root only); the test reaches it through /proc/<agent pid>/root and nsenter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { git, initRepo, tmpDir, write, GIT_ENV } from '../helpers/repos.js';
import { AgentProc, cli } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';

const root = process.getuid?.() === 0;

/** Mounts a tmpfs on $1, moves $2/.git/objects onto it, then runs the agent's command line. */
const IN_NAMESPACE = [
  'mount -t tmpfs -o size=2m tmpfs "$1"',
  'mkdir "$1/objects"',
  'cp -a "$2/.git/objects/." "$1/objects/"',
  'mount --bind "$1/objects" "$2/.git/objects"',
  'shift 2',
  'exec "$@"',
].join(' && ');

test(
  'disk full: the edit waits (not stuck), status says so, and it is committed once space is freed',
  {
    skip: root ? false : 'needs root for a tmpfs in a private mount namespace',
  },
  async (t) => {
    const tmp = tmpDir();
    const repo = initRepo(join(tmp.path, 'repo'));
    const mnt = join(tmp.path, 'mnt');
    mkdirSync(mnt);
    write(repo, 'note.txt', randomBytes(4096).toString('hex'));
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'base');
    assert.equal(cli(['-C', repo, 'init', '--yes']).code, 0);
    const agent = new AgentProc(repo, {}, [
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      IN_NAMESPACE,
      'sh',
      mnt,
      repo,
    ]);
    t.after(async () => {
      await agent.stop().catch(() => agent.kill9());
      tmp.cleanup();
    });
    await agent.start();
    // Paths as the agent sees them, inside its mount namespace.
    const inside = (p: string) => join(`/proc/${agent.child!.pid}/root`, p);
    // git in the agent's namespace (through /proc/<pid>/root, git's getcwd() would name the path
    // outside it, where the objects are not).
    const gitInside = (...args: string[]) =>
      execFileSync('nsenter', ['-t', String(agent.child!.pid), '-m', 'git', '-C', repo, ...args], {
        env: GIT_ENV,
        encoding: 'utf8',
      });
    assert.equal(gitInside('log', '-1', '--format=%s').trim(), 'base');

    // Fill the tmpfs to the last byte.
    const filler = inside(join(mnt, 'filler'));
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }

    // The edit itself goes to the work tree (another file system); its object cannot be written.
    const edit = randomBytes(8192).toString('hex');
    write(repo, 'note.txt', edit);
    const st = await waitFor(
      async () => {
        const s = await agent.status();
        return s.errors?.commit && /disk full/.test(s.errors.commit) ? s : null;
      },
      { timeoutMs: 60_000, what: 'status to say the disk is full' },
    );
    assert.match(
      st.errors!.commit!,
      /^disk full \(ENOSPC\): .*No space left on device.*; retrying in \d+ s$/,
    );
    assert.deepEqual(st.stuck, [], 'nothing is set aside as a name git refuses');
    assert.equal(st.pendingChanges, 1, 'the edit is still pending');
    assert.equal(gitInside('log', '-1', '--format=%s').trim(), 'base');

    // Free the space; nothing else happens in the work tree.
    rmSync(filler);
    await waitFor(() => gitInside('show', 'HEAD:note.txt') === edit, {
      timeoutMs: 90_000,
      what: 'the edit to be committed once space is free',
    });
    const after = await agent.status();
    assert.equal(after.pendingChanges, 0);
    assert.equal(after.errors?.commit ?? null, null);
    assert.equal(gitInside('status', '--porcelain').trim(), '');
  },
);
