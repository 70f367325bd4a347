// Real agents on real clones: a file whose name is not valid UTF-8 (Latin-1 bytes) reaches the peer
// under exactly the same bytes, with exactly the same content, whether it was written while the
// agent ran or while it was stopped; edits and deletes travel too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_ENV, git, read, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

/** A work-tree name given as Latin-1 text: every character becomes exactly one byte. */
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const at = (repo: string, name: Buffer): Buffer => Buffer.concat([Buffer.from(repo + '/'), name]);

/** The file's bytes under exactly this name, or null when no such name exists. */
function readRaw(repo: string, name: Buffer): Buffer | null {
  try {
    return readFileSync(at(repo, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Names in HEAD, as bytes. */
function headNames(repo: string): Buffer[] {
  const out = execFileSync('git', ['ls-tree', '-r', '-z', '--name-only', 'HEAD'], {
    cwd: repo,
    env: GIT_ENV,
  });
  const names: Buffer[] = [];
  for (let i = 0; i < out.length;) {
    const end = out.indexOf(0, i);
    names.push(out.subarray(i, end));
    i = end + 1;
  }
  return names;
}

const has = (names: Buffer[], name: Buffer) => names.some((n) => n.equals(name));
const head = (repo: string) => git(repo, 'rev-parse', 'HEAD').trim();

test('names that are not valid UTF-8 sync byte for byte: live, at start-up, edits and deletes', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  const [agentA] = topo.agents;
  await topo.startAll();

  // Written while the agent runs: one at the top, one in a directory that already exists, one in a
  // directory made just before it (the watcher may not watch it yet).
  const cafe = latin1('caf\xe9.txt');
  const inDir = latin1('notes/r\xe9sum\xe9.md');
  const inNew = latin1('fresh/\xfcber.bin');
  const binary = Buffer.from([0, 1, 2, 0xe9, 0xff, 10]);
  write(a, 'notes/keep.txt', 'keep\n');
  await waitFor(() => read(b, 'notes/keep.txt') === 'keep\n', { what: 'notes/ to reach b' });
  writeFileSync(at(a, cafe), 'bonjour\n');
  writeFileSync(at(a, inDir), 'r\xe9sum\xe9 in Latin-1\n', 'latin1');
  mkdirSync(join(a, 'fresh'));
  writeFileSync(at(a, inNew), binary);
  await waitFor(
    () =>
      readRaw(b, cafe)?.equals(Buffer.from('bonjour\n')) &&
      readRaw(b, inDir)?.equals(latin1('r\xe9sum\xe9 in Latin-1\n')) &&
      readRaw(b, inNew)?.equals(binary),
    { what: 'names written while the agent runs to reach b, same bytes, same content', timeoutMs: 30_000 },
  );
  // git writes the work tree before it moves the branch: HEAD may trail the files by a moment.
  await waitFor(() => [cafe, inDir, inNew].every((n) => has(headNames(b), n)), {
    what: "b's HEAD to name all three, byte for byte",
  });

  // An edit on the receiving side travels back.
  writeFileSync(at(b, cafe), 'bonjour encore\n');
  await waitFor(() => readRaw(a, cafe)?.equals(Buffer.from('bonjour encore\n')), {
    what: 'an edit made on b to reach a',
  });

  // Written while the agent is stopped: found by the start-up scan.
  await agentA!.stop();
  const naive = latin1('na\xefve.txt');
  writeFileSync(at(a, naive), 'written while stopped\n');
  writeFileSync(at(a, inDir), 'edited while stopped\n');
  await agentA!.start();
  await waitFor(
    () =>
      readRaw(b, naive)?.equals(Buffer.from('written while stopped\n')) &&
      readRaw(b, inDir)?.equals(Buffer.from('edited while stopped\n')),
    { what: 'changes made while the agent was stopped to reach b' },
  );

  // Deletes propagate, on their own and while the agent is stopped.
  rmSync(at(a, cafe));
  await waitFor(() => readRaw(b, cafe) === null && !has(headNames(b), cafe), {
    what: 'the delete to reach b',
  });
  await agentA!.stop();
  rmSync(at(a, inNew));
  await agentA!.start();
  await waitFor(() => readRaw(b, inNew) === null, { what: 'a delete made while stopped to reach b' });

  await waitFor(() => head(a) === head(b), { what: 'heads to agree' });
  for (const c of [a, b]) {
    assert.equal(git(c, 'status', '--porcelain').trim(), '', `${c} has nothing uncommitted`);
    const s = await topo.agents[topo.clones.indexOf(c)]!.status();
    assert.deepEqual(s.stuck ?? [], [], `${c} reports nothing stuck`);
  }
  assert.ok(has(headNames(a), naive) && !has(headNames(a), cafe) && !has(headNames(a), inNew));
  // Logs never hold the raw bytes: names appear C-quoted.
  const log = readFileSync(join(a, '.git', 'autosync', 'agent.log'), 'utf8');
  assert.ok(!log.includes('\uFFFD'), 'no mangled name in the log');
  assert.match(log, /na\\\\357ve\.txt|caf\\\\351\.txt/);
});

test('annex mode: an annexed file whose name is not valid UTF-8 arrives with its content', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
  const [a, b] = topo.clones as [string, string];
  await topo.startAll();
  // annex.largefiles is unset: every non-dot file is annexed, so b must fetch the content by key.
  const photo = latin1('f\xeate.jpg');
  const body = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xe9]);
  writeFileSync(at(a, photo), body);
  await waitFor(() => readRaw(b, photo)?.equals(body), {
    what: 'the annexed content under the byte-exact name on b',
    timeoutMs: 60_000,
  });
  await waitFor(() => has(headNames(b), photo), { what: "b's HEAD to name it byte for byte" });
  // It travelled as an annex pointer (content fetched by key), not as a blob in git.
  const tree = execFileSync('git', ['ls-tree', '-r', '-z', 'HEAD'], { cwd: b, env: GIT_ENV });
  const entry = tree
    .toString('latin1')
    .split('\0')
    .find((e) => e.endsWith('\t' + photo.toString('latin1')));
  assert.ok(entry, 'the name is in the tree');
  const sha = entry.split('\t')[0]!.split(' ')[2]!;
  assert.match(git(b, 'cat-file', '-p', sha), /^\/annex\/objects\/SHA256E-s8--/);
});
