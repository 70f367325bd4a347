import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isSafeRelPath,
  isValidBwLimit,
  isValidKey,
  isValidRemoteName,
  keySize,
} from '../../../src/annex/keys.js';
import { laneArgs, parseLaneLine } from '../../../src/transfer/batch.js';
import { keyFromPointer, parseDiffTree, parseDiffTreeBlobs } from '../../../src/transfer/commitkeys.js';
import {
  localPathOf,
  parseInfoRepos,
  parseRemoteConfig,
  parseUuidLog,
  parseWhereis,
} from '../../../src/map/inventory.js';

const KEY = 'SHA256E-s4--aff24c111c51fbfb99dc238f737db5be16abef773ef754a5b30885ee3d747427.jpg';

test('keys: valid git-annex keys pass, anything option-like or path-like fails', () => {
  for (const k of [
    KEY,
    'WORM-s5-m1700000000--foo.txt',
    'SHA256-s0--e3b0',
    'URL--http&c%%example.com',
    'MD5E-s3-S1000-C2--ab',
  ]) {
    assert.ok(isValidKey(k), k);
  }
  for (const k of [
    '',
    '-s4--x',
    '--all',
    'SHA256E-s4--a/b',
    'SHA256E-s4--a\nb',
    'sha256e-s4--x',
    'SHA256E',
    42,
  ]) {
    assert.ok(!isValidKey(k), String(k));
  }
  assert.equal(keySize(KEY), 4);
  assert.equal(keySize('WORM-m17-s99--x'), 99);
  assert.equal(keySize('URL--http&c%%x'), null);
});

test('remote names, bandwidth limits, paths', () => {
  assert.ok(isValidRemoteName('origin') && isValidRemoteName('my.cloud-2'));
  assert.ok(!isValidRemoteName('-x') && !isValidRemoteName('a b') && !isValidRemoteName('a;b'));
  assert.ok(
    isValidBwLimit('1MiB') && isValidBwLimit('500KB') && isValidBwLimit('100k') && isValidBwLimit('2.5 MB'),
  );
  assert.ok(!isValidBwLimit('1MiB;rm') && !isValidBwLimit('') && !isValidBwLimit('--x'));
  assert.ok(isSafeRelPath('a/b c.jpg'));
  assert.ok(!isSafeRelPath('../x') && !isSafeRelPath('/etc/passwd') && !isSafeRelPath('a\nb'));
});

test('laneArgs: keys never in argv; bwlimit via -c; bad names refused', () => {
  assert.deepEqual(laneArgs({ direction: 'upload', remote: 'c' }), [
    'copy',
    '--to=c',
    '--batch-keys',
    '--json',
    '--json-progress',
    '--json-error-messages',
  ]);
  assert.deepEqual(laneArgs({ direction: 'download', remote: 'c', bwlimit: '1MiB' }).slice(0, 2), [
    'get',
    '--from=c',
  ]);
  assert.deepEqual(laneArgs({ direction: 'download', remote: 'c', bwlimit: '1MiB' }).slice(-2), [
    '-c',
    'remote.c.annex-bwlimit=1MiB',
  ]);
  assert.throws(() => laneArgs({ direction: 'upload', remote: '--help' }));
  assert.throws(() => laneArgs({ direction: 'upload', remote: 'c', bwlimit: '1M -c x=y' }));
});

test('parseLaneLine: captured git-annex 10.20230126 output', () => {
  const prog =
    '{"action":{"command":"copy","file":null,"input":["K"],"key":"' +
    KEY +
    '","note":"to c..."},"byte-progress":32752,"percent-progress":"0.01%","total-size":300000000}';
  assert.deepEqual(parseLaneLine(prog), { kind: 'progress', key: KEY, bytes: 32752, size: 300000000 });
  const ok = `{"command":"copy","error-messages":[],"file":null,"input":["${KEY}"],"key":"${KEY}","note":"to c...","success":true}`;
  assert.deepEqual(parseLaneLine(ok), { kind: 'result', key: KEY, ok: true, error: null });
  const bad = `{"command":"copy","error-messages":["transfer already in progress, or unable to take transfer lock"],"key":"${KEY}","success":false}`;
  assert.deepEqual(parseLaneLine(bad), {
    kind: 'result',
    key: KEY,
    ok: false,
    error: 'transfer already in progress, or unable to take transfer lock',
  });
  assert.deepEqual(parseLaneLine(''), { kind: 'blank' });
  assert.deepEqual(parseLaneLine('copy foo ok'), { kind: 'other' });
  // A forged key in output is not passed on.
  assert.equal((parseLaneLine('{"key":"--all","success":true}') as { key: string | null }).key, null);
});

test('commit keys: pointer files and symlink targets', () => {
  assert.equal(keyFromPointer(`../../.git/annex/objects/wp/Jj/${KEY}/${KEY}`), KEY);
  assert.equal(keyFromPointer(`/annex/objects/${KEY}\n`), KEY);
  assert.equal(keyFromPointer('hello world\n'), null);
  assert.equal(keyFromPointer('/annex/objects/--all'), null);
  const sha1 = 'a'.repeat(40);
  const sha2 = 'b'.repeat(40);
  const z =
    `:000000 120000 ${'0'.repeat(40)} ${sha1} A\0p.jpg\0` +
    `:100644 100644 ${'1'.repeat(40)} ${sha2} R100\0old\0new\0` +
    `:000000 040000 ${'0'.repeat(40)} ${'c'.repeat(40)} A\0dir\0`;
  assert.deepEqual(parseDiffTreeBlobs(z), [sha1, sha2]);
  assert.deepEqual(parseDiffTree(z), [
    { sha: sha1, path: 'p.jpg' },
    { sha: sha2, path: 'new' },
  ]);
});

test('inventory parsers: info, remote config, uuid logs, whereis', () => {
  const info = JSON.stringify({
    'semitrusted repositories': [
      { description: 'web', here: false, uuid: '00000000-0000-0000-0000-000000000001' },
      { description: 'C [c]', here: false, uuid: '53a9896b-f1c5-4865-83a3-a4bc1c340653' },
      { description: 'A', here: true, uuid: '9170329f-c71b-4c81-b0f5-2778a3134fc5' },
    ],
    'untrusted repositories': [{ description: 'x', uuid: 'not-a-uuid' }],
  });
  const repos = parseInfoRepos(info);
  assert.deepEqual(
    repos.map((r) => [r.description, r.here]),
    [
      ['C [c]', false],
      ['A', true],
    ],
  );
  const cfg =
    'remote.c.url\n../c\0remote.c.annex-uuid\n53a9896b-f1c5-4865-83a3-a4bc1c340653\0' +
    'remote.c.annex-cost\n50\0remote.s3.annex-ignore\ntrue\0remote.s3.annex-uuid\n53a9896b-f1c5-4865-83a3-a4bc1c340654\0' +
    'remote.-bad.url\nx\0remote.dir.annex-directory\n/mnt/d\0remote.gh.url\ngit@github.com:a/b\0';
  const rc = parseRemoteConfig(cfg);
  assert.deepEqual(
    rc.map((r) => r.name),
    ['c', 's3', 'dir', 'gh'],
  );
  assert.equal(rc[0]!.cost, 50);
  assert.equal(rc[1]!.ignore, true);
  assert.equal(localPathOf(rc[0]!, '/work/a'), '/work/c');
  assert.equal(localPathOf(rc[2]!, '/work/a'), '/mnt/d');
  assert.equal(localPathOf(rc[3]!, '/work/a'), null);
  const log =
    '53a9896b-f1c5-4865-83a3-a4bc1c340653 client timestamp=10s\n' +
    '53a9896b-f1c5-4865-83a3-a4bc1c340653 transfer backup timestamp=20s\n' +
    'a7dfdf95-42cb-44dc-b618-f9bd95ae4596 include=*.jpg or include=*.png timestamp=5s\n' +
    'junk line\n';
  const m = parseUuidLog(log);
  assert.equal(m.get('53a9896b-f1c5-4865-83a3-a4bc1c340653'), 'transfer backup');
  assert.equal(m.get('a7dfdf95-42cb-44dc-b618-f9bd95ae4596'), 'include=*.jpg or include=*.png');
  const w =
    `{"command":"whereis","file":"p.jpg","key":"${KEY}","success":true,"untrusted":[{"uuid":"a7dfdf95-42cb-44dc-b618-f9bd95ae4596"}],"whereis":[{"description":"C [c]","here":false,"uuid":"53a9896b-f1c5-4865-83a3-a4bc1c340653"}]}\n` +
    `{"command":"whereis","file":"../x","key":"${KEY}","whereis":[]}\n` +
    `{"command":"whereis","file":"y","key":"--all","whereis":[]}\n`;
  assert.deepEqual(parseWhereis(w), [
    {
      key: KEY,
      file: 'p.jpg',
      present: ['53a9896b-f1c5-4865-83a3-a4bc1c340653', 'a7dfdf95-42cb-44dc-b618-f9bd95ae4596'],
    },
  ]);
});
