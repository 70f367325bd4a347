// Editor and OS temporary files are not synced (issue 8, confusing 3): a vim-like save on one clone
// makes one commit with just the file, and none of the swap, backup, lock or metadata files reach the
// peer; a tracked file that matches keeps syncing; autosync.ignore adds rules and takes them back;
// scans, `sync` and `status` leave such files out too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { git, read, write } from '../helpers/repos.js';
import { cli } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';

const TEMP = ['.x.swp', '4913', 'x~', '#x#', '.#x', '.DS_Store', 'a.tmp', '~$x.docx', '.~lock.x#', 'old.bak'];

test('a vim-like save makes one commit with just the file; temporary files never reach the peer', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  write(a, 'x', 'v1\n');
  write(a, 'notes.tmp', 'kept on purpose\n');
  git(a, 'add', 'x');
  git(a, 'add', '-f', 'notes.tmp');
  git(a, 'commit', '-q', '-m', 'base');
  git(a, 'push', '-q', 'origin', 'main');
  git(b, 'pull', '-q', 'origin', 'main');
  git(a, 'config', '--add', 'autosync.ignore', '*.bak');
  git(a, 'config', '--add', 'autosync.ignore', '!keep.tmp');
  await topo.startAll();
  const base = git(a, 'rev-parse', 'HEAD').trim();

  // vim opens x: its swap file; then :w with 'backup' on: the write test file, x renamed to the
  // backup x~, the new x written.
  write(a, '.x.swp', 'swap 1');
  write(a, '4913', '');
  rmSync(join(a, '4913'));
  renameSync(join(a, 'x'), join(a, 'x~'));
  write(a, 'x', 'v2\n');
  write(a, '.x.swp', 'swap 2');
  // Other editors and the OS leave theirs.
  write(a, '#x#', 'emacs autosave');
  symlinkSync('user@host.123', join(a, '.#x'));
  write(a, '.DS_Store', 'finder');
  write(a, 'a.tmp', 'temp');
  write(a, '~$x.docx', 'office owner');
  write(a, '.~lock.x#', 'libreoffice lock');
  write(a, 'old.bak', 'added by autosync.ignore');
  await waitFor(() => read(b, 'x') === 'v2\n', { what: 'the save on b', timeoutMs: 30_000 });

  // A tracked file that matches a rule, and a name taken back by `!keep.tmp`, are synced.
  write(a, 'notes.tmp', 'edited\n');
  write(a, 'keep.tmp', 'taken back\n');
  await waitFor(() => read(b, 'notes.tmp') === 'edited\n' && read(b, 'keep.tmp') === 'taken back\n', {
    what: 'the tracked .tmp and keep.tmp on b',
    timeoutMs: 30_000,
  });
  // vim keeps its swap file open for writing: it must not wait as pending for as long as vim runs.
  const seen = () =>
    readFileSync(join(a, '.git/autosync/agent.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"path":".x.swp"') && l.includes('"msg":"changed"')).length;
  const before = seen();
  const swap = openSync(join(a, '.x.swp'), 'r+');
  try {
    writeSync(swap, 'swap 3');
    await waitFor(() => seen() > before, { what: 'the agent to see the swap file change' });
    await waitFor(async () => (await topo.agents[0]!.status()).pendingChanges === 0, {
      what: 'nothing pending on a while the swap file is open',
      timeoutMs: 10_000,
    });
  } finally {
    closeSync(swap);
  }
  await topo.agents[0]!.stop(); // a stop commits whatever is pending: still none of them

  const commits = git(a, 'rev-list', '--reverse', `${base}..HEAD`).trim().split('\n');
  const files = commits.map((c) => git(a, 'show', '--format=', '--name-only', c).trim());
  assert.deepEqual(files[0], 'x', `the save is one commit of just x: ${JSON.stringify(files)}`);
  assert.equal(files.filter((f) => f.split('\n').includes('x')).length, 1, 'one commit touches x');
  for (const f of TEMP) {
    assert.ok(!existsSync(join(b, f)), `${f} is not on b`);
    assert.equal(git(a, 'ls-files', '--', f).trim(), '', `${f} is not committed on a`);
  }

  // No agent: `status` does not count them, and `sync` does not commit them.
  write(a, '.y.swp', 'swap');
  write(a, 'scratch.tmp', 'temp');
  const st = cli(['-C', a, 'status', '--json']);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout).pendingChanges, 0, 'status counts no temporary file');
  const head = git(a, 'rev-parse', 'HEAD').trim();
  assert.equal(cli(['-C', a, 'sync']).code, 0);
  assert.equal(git(a, 'rev-parse', 'HEAD').trim(), head, 'sync commits no temporary file');

  // autosync.ignore none: the defaults are off.
  git(a, 'config', '--add', 'autosync.ignore', 'none');
  assert.equal(JSON.parse(cli(['-C', a, 'status', '--json']).stdout).pendingChanges, TEMP.length + 2 - 1);
});
