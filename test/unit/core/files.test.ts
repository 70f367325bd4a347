import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../../src/core/files.js';

test('writeJsonAtomic replaces the file whole, with its mode, and leaves no temp file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'autosync-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'state', 'state.json');
  writeJsonAtomic(path, { all: false, remotes: [] }, 0o600);
  assert.equal(readFileSync(path, 'utf8'), '{"all":false,"remotes":[]}\n');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700, 'a missing directory is made 0700');
  writeFileSync(path, 'old');
  writeJsonAtomic(path, { all: true }, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { all: true });
  assert.deepEqual(readdirSync(join(dir, 'state')), ['state.json']);
});

test('writeFileAtomic keeps the old file when the write fails, and cleans its temp file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'autosync-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'pw');
  writeFileAtomic(path, 'one\n', { mode: 0o600, fsync: true });
  assert.equal(readFileSync(path, 'utf8'), 'one\n');
  // A directory where the file should be: the rename fails, the temp file goes.
  const blocked = join(dir, 'sub');
  writeFileAtomic(join(blocked, 'x'), 'x', { mode: 0o600 });
  assert.throws(() => writeFileAtomic(blocked, 'y', { mode: 0o600 }));
  assert.deepEqual(readdirSync(dir).sort(), ['pw', 'sub']);
});
