import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  TransferDir,
  devMajorMinor,
  parseProcLocks,
  parseTransferInfo,
} from '../../../src/transfer/transferinfo.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

const KEY = 'SHA256E-s300000000--5373144a0f2d645d971400547a9c5ebe80cb00432b4af260e803d820f862da4d.bin';
const UUID = '53a9896b-f1c5-4865-83a3-a4bc1c340653';

test('parseTransferInfo: 10.x format (time, optional bytes, associated file)', () => {
  // Captured from git-annex 10.20230126 during `git annex copy --to c`.
  assert.deepEqual(parseTransferInfo('1795547872.300110833s\n\n'), {
    startedAt: 1795547872.300110833,
    bytes: null,
    associatedFile: null,
  });
  assert.deepEqual(parseTransferInfo('1795547872.3s 1048576\nphotos/a.jpg\n'), {
    startedAt: 1795547872.3,
    bytes: 1048576,
    associatedFile: 'photos/a.jpg',
  });
  // Older format with a pid first: the pid is not mistaken for bytes.
  assert.equal(parseTransferInfo('1234 1795547872.3s 99\nf\n').bytes, 99);
  assert.deepEqual(parseTransferInfo(''), { startedAt: null, bytes: null, associatedFile: null });
});

test('parseProcLocks: holders only, waiters skipped', () => {
  const text = [
    '1: POSIX  ADVISORY  WRITE 7975 fe:00:2147254 0 EOF',
    '2: POSIX  ADVISORY  READ 7975 fe:00:2147250 123 123',
    '3: FLOCK  ADVISORY  WRITE 812 00:1a:77 0 EOF',
    '3: -> FLOCK  ADVISORY  WRITE 813 00:1a:77 0 EOF',
    '4: OFDLCK ADVISORY  READ -1 08:01:12 0 EOF',
    'garbage',
  ].join('\n');
  const l = parseProcLocks(text);
  assert.equal(l.length, 4);
  assert.deepEqual(l[0], { pid: 7975, major: 0xfe, minor: 0, inode: 2147254n });
  assert.equal(l[2]!.pid, 812);
  assert.equal(l[3]!.pid, -1);
});

test('devMajorMinor: glibc dev_t encoding', () => {
  assert.deepEqual(devMajorMinor(0xfe00n), { major: 0xfe, minor: 0 });
  assert.deepEqual(devMajorMinor(0x801n), { major: 8, minor: 1 });
  // Large minor numbers spill into the high bits.
  assert.deepEqual(devMajorMinor((0x12300n << 12n) | (0x8n << 8n) | 0x45n), { major: 8, minor: 0x12345 });
});

test('TransferDir: a transfer counts as running only while its lock is held (real fcntl lock)', async (t) => {
  const d = tmpDir();
  t.after(d.cleanup);
  const dir = join(d.path, 'transfer', 'upload', UUID);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, KEY), '1795547872.300110833s\nbig.bin\n');
  writeFileSync(join(dir, `lck.${KEY}`), '');
  const td = new TransferDir(d.path);
  assert.equal(td.running('upload', UUID, KEY), null, 'stale info file without a lock is not running');
  assert.deepEqual(td.list(), []);
  // Hold a POSIX write lock the way git-annex does, from another process.
  const holder = spawn(
    'python3',
    [
      '-c',
      'import fcntl,sys,time\nf=open(sys.argv[1],"w")\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint("locked",flush=True)\ntime.sleep(60)',
      join(dir, `lck.${KEY}`),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  const r = td.running('upload', UUID, KEY);
  assert.ok(r, 'locked transfer is running');
  assert.equal(r.pid, holder.pid);
  assert.equal(r.info.associatedFile, 'big.bin');
  assert.equal(td.running('download', null, KEY), null, 'direction matters');
  assert.equal(td.list().length, 1);
  holder.kill('SIGKILL');
  await waitFor(() => td.running('upload', UUID, KEY) === null, { what: 'lock released after kill' });
  assert.ok(existsSync(join(dir, KEY)) && statSync(join(dir, KEY)).size > 0);
});

test('TransferDir: downloads match any remote uuid; junk names are ignored', async (t) => {
  const d = tmpDir();
  t.after(d.cleanup);
  const dir = join(d.path, 'transfer', 'download', UUID);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, KEY), '1s\n\n');
  writeFileSync(join(dir, 'not a key'), '');
  const ino = statSync(join(dir, KEY), { bigint: true });
  const { major, minor } = devMajorMinor(ino.dev);
  const fake = join(d.path, 'locks');
  writeFileSync(
    fake,
    `1: POSIX  ADVISORY  WRITE 4242 ${major.toString(16).padStart(2, '0')}:${minor
      .toString(16)
      .padStart(2, '0')}:${ino.ino} 0 EOF\n`,
  );
  const td = new TransferDir(d.path, fake);
  const r = td.running('download', null, KEY);
  assert.equal(r?.pid, 4242);
  assert.equal(r?.uuid, UUID);
  assert.equal(td.list().length, 1);
});
