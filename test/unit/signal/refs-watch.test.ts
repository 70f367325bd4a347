// The refs watch on real directories in a temp dir (no git runs: refs are written the way git
// writes them, `<ref>.lock` renamed onto `<ref>`). It fires on a ref a peer pushed into this
// clone, on a bare remote's ref, on our own branch moving, and not on anything else.
//
// "Not fired" is checked against a barrier, not a wait: after the unrelated writes the test makes
// a change another callback fires on. All watches share one inotify queue and one debounce delay,
// so by the time the barrier's callback runs, a callback the unrelated writes had set off would
// have run before it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RefsWatch } from '../../../src/signal/refs-watch.js';
import { createLogger } from '../../../src/core/log.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

interface Rig {
  watch: RefsWatch;
  gitDir: string;
  work: string;
  cloud: string;
  local: number;
  branch: number;
  remote: string[];
  /** onSubmoduleMoved's paths. */
  subs: string[];
  /** How often the submodule list was read. */
  subsAsked: number;
}

interface RigOptions {
  branch?: string;
  submodules?: Array<{ path: string; gitDir: string }>;
}

/** A clone's .git and a bare "cloud" remote on a local path, as directories; and a network remote. */
function layout(t: TestContext): { gitDir: string; work: string; cloud: string } {
  const tmp = tmpDir('gas-refs-');
  t.after(() => tmp.cleanup());
  const work = join(tmp.path, 'work');
  const gitDir = join(work, '.git');
  const cloud = join(tmp.path, 'cloud.git');
  for (const d of [join(gitDir, 'refs', 'heads'), join(gitDir, 'objects')]) mkdirSync(d, { recursive: true });
  for (const d of [join(cloud, 'refs', 'heads'), join(cloud, 'objects')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(cloud, 'HEAD'), 'ref: refs/heads/main\n');
  return { gitDir, work, cloud };
}

/** The one place that builds a RefsWatch (its options are being reshaped by issue 9). */
async function rig(t: TestContext, dirs = layout(t), opts: RigOptions = {}): Promise<Rig> {
  const r: Rig = {
    watch: null as unknown as RefsWatch,
    ...dirs,
    local: 0,
    branch: 0,
    remote: [],
    subs: [],
    subsAsked: 0,
  };
  const subs = opts.submodules;
  r.watch = new RefsWatch({
    gitDir: dirs.gitDir,
    workTree: dirs.work,
    branch: opts.branch ?? 'main',
    remotes: () => [
      { name: 'cloud', url: dirs.cloud },
      { name: 'net', url: 'ssh://host/srv/notes.git' },
    ],
    onLocalRefs: () => r.local++,
    onRemoteRefs: (name) => r.remote.push(name),
    onBranchMoved: () => r.branch++,
    log: createLogger({}),
    ...(subs
      ? {
          submodules: async () => (r.subsAsked++, subs),
          onSubmoduleMoved: (path: string) => r.subs.push(path),
        }
      : {}),
  });
  await r.watch.start({ fail: (e) => assert.fail(`refs watch failed: ${String(e)}`) });
  t.after(() => r.watch.stop());
  return r;
}

let n = 0;
/** Moves a ref the way git does: write `<ref>.lock`, rename it onto `<ref>`. */
function updateRef(repo: string, ref: string): void {
  const path = join(repo, ...ref.split('/'));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.lock`, `${(++n).toString(16).padStart(40, '0')}\n`);
  renameSync(`${path}.lock`, path);
}

const cloudFired = (r: Rig) => r.remote.filter((x) => x === 'cloud').length;

test('start looks once at our refs and at each watched remote; a network remote is not watched', async (t) => {
  const r = await rig(t);
  assert.equal(r.local, 1);
  assert.deepEqual(r.remote, ['cloud']);
  assert.equal(r.branch, 0);
});

test("a peer's push into this clone (refs/heads/synced/*) fires onLocalRefs", async (t) => {
  const r = await rig(t);
  updateRef(r.gitDir, 'refs/heads/synced/main');
  await waitFor(() => r.local === 2, { what: 'onLocalRefs after synced/main moved' });
  updateRef(r.gitDir, 'refs/heads/synced/git-annex');
  await waitFor(() => r.local === 3, { what: 'onLocalRefs after synced/git-annex moved' });
});

test("a push into the bare remote fires onRemoteRefs with the remote's name", async (t) => {
  const r = await rig(t);
  updateRef(r.cloud, 'refs/heads/main');
  await waitFor(() => cloudFired(r) === 2, { what: 'onRemoteRefs(cloud) after its main moved' });
  updateRef(r.cloud, 'refs/heads/synced/main');
  // The first synced/ ref also creates the directory: that may fire once more.
  await waitFor(() => cloudFired(r) >= 3, { what: 'onRemoteRefs(cloud) after its synced/main moved' });
  assert.equal(r.local, 1, 'our own refs did not change');
});

test('our own branch moving fires onBranchMoved, not onLocalRefs', async (t) => {
  const r = await rig(t);
  updateRef(r.gitDir, 'refs/heads/main');
  await waitFor(() => r.branch === 1, { what: 'onBranchMoved after main moved' });
  updateRef(r.cloud, 'refs/heads/main'); // barrier
  await waitFor(() => cloudFired(r) === 2, { what: 'the barrier' });
  assert.equal(r.local, 1, 'our branch is not incoming work');
});

test('packed-refs rewritten in this clone fires onLocalRefs', async (t) => {
  const r = await rig(t);
  writeFileSync(join(r.gitDir, 'packed-refs.lock'), '# pack-refs with: peeled\n');
  renameSync(join(r.gitDir, 'packed-refs.lock'), join(r.gitDir, 'packed-refs'));
  await waitFor(() => r.local === 2, { what: 'onLocalRefs after packed-refs was rewritten' });
});

test('unrelated files fire nothing', async (t) => {
  const r = await rig(t);
  // In this clone: the index, objects, a tag, another branch, a lock file that is never renamed.
  writeFileSync(join(r.gitDir, 'index'), 'x');
  mkdirSync(join(r.gitDir, 'objects', 'ab'));
  writeFileSync(join(r.gitDir, 'objects', 'ab', 'cdef'), 'x');
  updateRef(r.gitDir, 'refs/tags/v1');
  updateRef(r.gitDir, 'refs/heads/other');
  writeFileSync(join(r.gitDir, 'refs', 'heads', 'synced', 'main.lock'), 'x');
  writeFileSync(join(r.work, 'notes.txt'), 'x');
  updateRef(r.cloud, 'refs/heads/main'); // barrier
  await waitFor(() => cloudFired(r) === 2, { what: 'the barrier in the remote' });
  assert.equal(r.local, 1, 'onLocalRefs');
  assert.equal(r.branch, 0, 'onBranchMoved');

  // In the remote: its objects and a lock file.
  mkdirSync(join(r.cloud, 'objects', 'ab'));
  writeFileSync(join(r.cloud, 'objects', 'ab', 'cdef'), 'x');
  writeFileSync(join(r.cloud, 'refs', 'heads', 'main.lock'), 'x');
  updateRef(r.gitDir, 'refs/heads/synced/main'); // barrier
  await waitFor(() => r.local === 2, { what: 'the barrier in this clone' });
  assert.equal(cloudFired(r), 2, 'onRemoteRefs');
});

test('a synced/ directory removed (git gc) and created again by a push is still watched', async (t) => {
  const r = await rig(t);
  rmSync(join(r.gitDir, 'refs', 'heads', 'synced'), { recursive: true });
  updateRef(r.gitDir, 'refs/heads/synced/main');
  await waitFor(() => r.local >= 2, { what: 'onLocalRefs after synced/ came back' });
  const seen = r.local;
  updateRef(r.gitDir, 'refs/heads/synced/main');
  await waitFor(() => r.local > seen, { what: 'onLocalRefs on the new synced/ directory' });
});

test('after stop nothing fires', async (t) => {
  const dirs = layout(t);
  const stopped = await rig(t, dirs);
  const barrier = await rig(t, dirs);
  await stopped.watch.stop();
  updateRef(dirs.gitDir, 'refs/heads/synced/main');
  updateRef(dirs.gitDir, 'refs/heads/main');
  updateRef(dirs.cloud, 'refs/heads/main');
  await waitFor(() => barrier.local === 2 && barrier.branch === 1 && cloudFired(barrier) === 2, {
    what: 'the watch that still runs',
  });
  assert.deepEqual([stopped.local, stopped.branch, cloudFired(stopped)], [1, 0, 1]);
});

test('a branch whose name has a slash: its synced ref and the branch itself are watched', async (t) => {
  const dirs = layout(t);
  // The directory is there already: only a watch of synced/team itself sees the ref change.
  mkdirSync(join(dirs.gitDir, 'refs', 'heads', 'synced', 'team'), { recursive: true });
  const r = await rig(t, dirs, { branch: 'team/notes' });
  updateRef(r.gitDir, 'refs/heads/synced/team/notes');
  await waitFor(() => r.local >= 2, { what: 'onLocalRefs after synced/team/notes moved' });
  updateRef(r.gitDir, 'refs/heads/team/notes');
  await waitFor(() => r.branch === 1, { what: 'onBranchMoved after team/notes moved' });
});

test('a commit in a submodule (its branch or a detached HEAD moving) fires onSubmoduleMoved', async (t) => {
  const dirs = layout(t);
  const subGit = join(dirs.gitDir, 'modules', 'lib');
  mkdirSync(join(subGit, 'refs', 'heads'), { recursive: true });
  writeFileSync(join(subGit, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(dirs.work, '.gitmodules'), '[submodule "lib"]\n\tpath = lib\n\turl = ../lib\n');
  const r = await rig(t, dirs, { submodules: [{ path: 'lib', gitDir: subGit }] });
  updateRef(subGit, 'refs/heads/main');
  await waitFor(() => r.subs.length === 1, { what: "onSubmoduleMoved after the submodule's main moved" });
  assert.deepEqual(r.subs, ['lib']);
  assert.equal(r.subsAsked, 1, 'read once, at start');
  writeFileSync(join(subGit, 'HEAD.lock'), `${'a'.repeat(40)}\n`);
  renameSync(join(subGit, 'HEAD.lock'), join(subGit, 'HEAD'));
  await waitFor(() => r.subs.length === 2, { what: 'onSubmoduleMoved after its HEAD was detached' });
  assert.equal(r.local, 1, 'onLocalRefs');
});

test('no .gitmodules: the submodule list is not read', async (t) => {
  const r = await rig(t, layout(t), { submodules: [] });
  assert.equal(r.subsAsked, 0);
});
