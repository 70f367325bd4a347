// The watcher at scale: one kernel watch per folder (not per file), every file of a burst into new
// nested folders reported by the watcher itself (no git scan to lean on), a folder moved away handed
// to git, and the kernel out of watches (injected through maxWatches): the watches are given back,
// the scans take over once, and the failure is fatal with the sysctl to raise. Real fs.watch, real
// directories; a stand-in runner answers the one git call (the ignored directories) with nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Watcher } from '../../../src/agent/watcher.js';
import { createLogger } from '../../../src/core/log.js';
import { FatalServiceError } from '../../../src/core/errors.js';
import { classifyFailure, type ServiceContext } from '../../../src/core/service.js';
import type { Runner } from '../../../src/git/runner.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

const runner = { git: async () => ({ stdout: '', stderr: '' }) } as unknown as Runner;

/** The inotify watches this process holds now, as the kernel counts them. */
function kernelWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('inotify wd:')).length;
  }
  return n;
}

function tree(root: string, folders: number, files: number): void {
  for (let d = 0; d < folders; d++) {
    mkdirSync(join(root, `d${d}`, 'inner'), { recursive: true });
    for (let f = 0; f < files; f++) writeFileSync(join(root, `d${d}`, 'inner', `f${f}.txt`), `${d}/${f}\n`);
  }
}

function setup(t: { after: (fn: () => unknown) => void }): string {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const wt = join(tmp.path, 'wt');
  mkdirSync(join(wt, '.git', 'objects'), { recursive: true });
  return wt;
}

const noFail: ServiceContext = { fail: (e) => assert.fail(String(e)) };

test('one kernel watch per folder, none for files or .git', async (t) => {
  const wt = setup(t);
  tree(wt, 20, 25); // 20 folders, each with one sub-folder of 25 files: 41 folders with the top
  const before = kernelWatches();
  const w = new Watcher({ workTree: wt, runner, log: createLogger({}), onChange: () => {} });
  await w.start(noFail);
  t.after(() => w.stop());
  assert.equal(w.watchCount, 41);
  assert.equal(kernelWatches() - before, 41, 'the kernel counts the same watches');
  await w.stop();
  assert.equal(kernelWatches(), before, 'stop gives every watch back');
});

test('a burst into new nested folders: every file is reported by the watcher itself', async (t) => {
  const wt = setup(t);
  tree(wt, 5, 5);
  const seen = new Set<string>();
  const scanned: string[] = [];
  const w = new Watcher({
    workTree: wt,
    runner,
    log: createLogger({}),
    onChange: (p) => seen.add(p),
    scanDir: (d) => scanned.push(d),
  });
  await w.start(noFail);
  t.after(() => w.stop());
  // 2,000 files in 100 new folders of depth 1 to 4, written as fast as the disk takes them: most of
  // them land before the watch on their folder can be set.
  const want: string[] = [];
  for (let i = 0; i < 100; i++) {
    const dir = ['unpacked', `a${i}`, 'b', 'c', 'd'].slice(0, 2 + (i % 4)).join('/');
    mkdirSync(join(wt, dir), { recursive: true });
    for (let f = 0; f < 20; f++) {
      writeFileSync(join(wt, dir, `x${f}.bin`), 'y'.repeat(64 + f));
      want.push(`${dir}/x${f}.bin`);
    }
  }
  await waitFor(() => want.every((p) => seen.has(p)), {
    timeoutMs: 30_000,
    what: () => `all ${want.length} files reported (missing ${want.filter((p) => !seen.has(p)).length})`,
  });
  assert.deepEqual(scanned, [], 'no git scan was needed');
  assert.ok(![...seen].some((p) => p.startsWith('.git')), 'nothing under .git');
  // 11 folders at the start (top, 5 x 2), then unpacked/ and its 100 + 75 + 50 + 25 folders.
  assert.equal(w.watchCount, 11 + 1 + 250);
});

test('a folder moved away: its watches go, git is asked for what it held; moved back in, it is read', async (t) => {
  const wt = setup(t);
  tree(wt, 3, 4);
  const outside = join(wt, '..', 'outside');
  const seen: string[] = [];
  const scanned: string[] = [];
  const w = new Watcher({
    workTree: wt,
    runner,
    log: createLogger({}),
    onChange: (p) => seen.push(p),
    scanDir: (d) => scanned.push(d),
  });
  await w.start(noFail);
  t.after(() => w.stop());
  assert.equal(w.watchCount, 7);
  renameSync(join(wt, 'd1'), outside);
  await waitFor(() => scanned.includes('d1'), { what: 'a scan of d1 asked for' });
  assert.equal(w.watchCount, 5, "d1's and d1/inner's watches are closed");
  renameSync(outside, join(wt, 'moved'));
  await waitFor(() => seen.filter((p) => p.startsWith('moved/inner/')).length === 4, {
    what: 'the four files of the folder moved in reported',
  });
  assert.equal(w.watchCount, 7);
});

test('out of watches at start: all given back, the scans take over, a fatal failure with the sysctl', async (t) => {
  const wt = setup(t);
  tree(wt, 10, 2); // 21 folders
  const before = kernelWatches();
  let handedOver = 0;
  const w = new Watcher({
    workTree: wt,
    runner,
    log: createLogger({}),
    onChange: () => {},
    onWatchLimit: () => handedOver++,
    maxWatches: 8,
  });
  t.after(() => w.stop());
  const err = await w.start(noFail).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof FatalServiceError, `start fails fatally: ${String(err)}`);
  const failure = classifyFailure(err);
  assert.ok(failure.fatal && /fs\.inotify\.max_user_watches/.test(failure.hint), 'the hint names the sysctl');
  assert.match(failure.message, /scanned with git status/);
  assert.equal(handedOver, 1);
  assert.equal(w.watchCount, 0);
  assert.equal(kernelWatches(), before, 'no watch is kept');
});

test('out of watches later (new folders): failed once, the scans take over, nothing thrown', async (t) => {
  const wt = setup(t);
  tree(wt, 2, 2); // 5 folders
  let handedOver = 0;
  const failures: unknown[] = [];
  const w = new Watcher({
    workTree: wt,
    runner,
    log: createLogger({}),
    onChange: () => {},
    onWatchLimit: () => handedOver++,
    maxWatches: 8,
  });
  await w.start({ fail: (e) => failures.push(e) });
  t.after(() => w.stop());
  for (let i = 0; i < 6; i++) mkdirSync(join(wt, `new${i}`));
  await waitFor(() => failures.length > 0, { what: 'the watch limit reported' });
  // More folders after the hand-over raise nothing: no watch is left to raise it.
  for (let i = 0; i < 3; i++) mkdirSync(join(wt, `later${i}`));
  writeFileSync(join(wt, 'later0', 'f.txt'), 'x');
  await waitFor(() => handedOver === 1 && w.watchCount === 0, { what: 'the scans took over' });
  assert.equal(failures.length, 1, 'reported once');
  assert.ok(failures[0] instanceof FatalServiceError);
  assert.equal(handedOver, 1);
});
