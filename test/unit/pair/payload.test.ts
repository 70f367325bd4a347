// The sealed payload: seal/open round trip and refusal of a wrong key, tampering and other
// associated data; every settings field validated on receipt (one row per field); remote URLs that
// could run a command, read a local file or pass as an option refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  open,
  seal,
  settingsProblem,
  urlProblem,
  validateOutcome,
  validateSettings,
} from '../../../src/pair/payload.js';
import { decode, encode, isLabel } from '../../../src/pair/wire.js';
import { SETTINGS } from './fixtures.js';

const KEY = new Uint8Array(32).fill(1);
const AAD = Uint8Array.from([1, 4, 9, 9]);

test('seal and open: round trip; a wrong key, other AAD or a flipped bit give null', () => {
  const s = seal(KEY, AAD, SETTINGS);
  assert.deepEqual(open(KEY, AAD, s), SETTINGS);
  assert.equal(open(new Uint8Array(32).fill(2), AAD, s), null);
  assert.equal(open(KEY, Uint8Array.from([1, 5, 9, 9]), s), null);
  const t = Uint8Array.from(s);
  t[3] = t[3]! ^ 0x40;
  assert.equal(open(KEY, AAD, t), null);
  assert.equal(open(KEY, AAD, s.subarray(0, 10)), null);
  assert.equal(Buffer.from(s).includes(SETTINGS.key), false);
});

test('validateSettings: the fixture passes, and each bad field is named', () => {
  assert.deepEqual(validateSettings(structuredClone(SETTINGS)), SETTINGS);
  const { annex: _annex, ...plain } = structuredClone(SETTINGS);
  assert.deepEqual(validateSettings(plain), plain);
  const ported = structuredClone(SETTINGS);
  ported.remote.urls = ['ssh://git@[::1]:2222/srv/notes.git', 'git@example.org:notes.git'];
  ported.remote.knownHosts = ['[::1]:2222,example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx4mple'];
  assert.deepEqual(validateSettings(ported), ported);
  // Ports are compared, host names without regard to case; port 22 needs no brackets.
  const cased = structuredClone(SETTINGS);
  cased.remote.urls = ['ssh://git@Example.org:22/srv/notes.git', 'ssh://git@example.org:2222/x'];
  cased.remote.knownHosts = ['EXAMPLE.org,[example.org]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx4mple'];
  assert.deepEqual(validateSettings(cased), cased);
  const rows: Array<[string, (s: Record<string, any>) => void]> = [
    ['not the settings object', (s) => (s.extra = 1)],
    ['repo.id', (s) => (s.repo.id = '-rf')],
    ['repo.name', (s) => (s.repo.name = 'a\u202ename')],
    ['repo.root', (s) => (s.repo.root = 'HEAD')],
    ['repo', (s) => (s.repo.path = '/etc')],
    ['remote.name', (s) => (s.remote.name = '--upload-pack=x')],
    ['remote.urls', (s) => (s.remote.urls = [])],
    ['remote.urls', (s) => (s.remote.urls = ['ext::sh -c touch% /tmp/pwned'])],
    ['remote.urls', (s) => (s.remote.urls = Array(17).fill('https://example.org/x.git'))],
    ['remote.knownHosts', (s) => (s.remote.knownHosts = ['example.org ssh-ed25519 AAAA\nevil'])],
    [
      'remote.knownHosts',
      (s) => (s.remote.knownHosts = ['github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx4mple']),
    ],
    ['remote.knownHosts', (s) => (s.remote.knownHosts = ['example.org,github.com ssh-ed25519 AAAAC3Nza'])],
    // Wildcards, negation and other ports trust keys beyond the shared remote's own host.
    ...[
      '* ssh-ed25519 AAAAC3Nza',
      '*.org ssh-ed25519 AAAAC3Nza',
      'example.or? ssh-ed25519 AAAAC3Nza',
      '!a,example.org ssh-ed25519 AAAAC3Nza',
      '[example.org]:2222 ssh-ed25519 AAAAC3Nza',
      '[example.org] ssh-ed25519 AAAAC3Nza',
      '[*]:22 ssh-ed25519 AAAAC3Nza',
    ].map((l): [string, (s: Record<string, any>) => void] => [
      'remote.knownHosts',
      (s) => (s.remote.knownHosts = [l]),
    ]),
    // A wildcard host in the URL makes no pattern of it.
    [
      'remote.urls',
      (s) => {
        s.remote.urls = ['ssh://*/r'];
        s.remote.knownHosts = ['* ssh-ed25519 AAAAC3Nza'];
      },
    ],
    // The keys of an https remote's host are no ssh host keys of the shared remote.
    [
      'remote.knownHosts',
      (s) => {
        s.remote.urls = ['https://example.org/notes.git'];
      },
    ],
    ['repo.name', (s) => (s.repo.name = '..')],
    ['repo.name', (s) => (s.repo.name = 'a/b')],
    ['repo.name', (s) => (s.repo.name = '-notes')],
    ['key', (s) => (s.key = 'AB'.repeat(32))],
    ['key', (s) => (s.key = 'ab'.repeat(31))],
    ['xmpp', (s) => (s.xmpp.password = 'x')],
    ['xmpp.jid', (s) => (s.xmpp.jid = 'anna')],
    ['xmpp.room', (s) => (s.xmpp.room = 'room@conf/x')],
    ['xmpp.service', (s) => (s.xmpp.service = 'http://example.org')],
    ['annex.remoteUuid', (s) => (s.annex.remoteUuid = 'here')],
    ['annex.group', (s) => (s.annex.group = '-x')],
    ['annex.wanted', (s) => (s.annex.wanted = '--force')],
    ['annex.wanted', (s) => (s.annex.wanted = '')],
    ['annex', (s) => (s.annex.uuid = '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d')],
  ];
  for (const [field, spoil] of rows) {
    const s = structuredClone(SETTINGS) as unknown as Record<string, any>;
    spoil(s);
    assert.throws(
      () => validateSettings(s),
      { code: 'pair-payload', message: new RegExp(`: ${field.replace('.', '\\.')}$`) },
      field,
    );
  }
  for (const v of [null, [], 'x', 7]) assert.throws(() => validateSettings(v), { code: 'pair-payload' });
});

test('urlProblem: network URLs pass; helpers, local paths, options, odd schemes do not', () => {
  for (const u of [
    'ssh://git@example.org/srv/notes.git',
    'ssh://git@example.org:2222/~/notes',
    'https://example.org/notes.git',
    'git://example.org/notes',
    'git@example.org:notes.git',
    'example.org:notes',
    'ssh://git@[::1]:2222/srv/notes.git',
    'ssh://git@192.0.2.7/srv/notes.git',
    'https://user%40corp@example.org/notes.git',
  ])
    assert.equal(urlProblem(u), null, u);
  for (const u of [
    '',
    '/srv/notes.git',
    './notes',
    'file:///srv/notes.git',
    'ext::sh -c evil',
    'ext::sh%20-c%20evil',
    'transport::example.org/x',
    'fd::3',
    '-oProxyCommand=evil:x',
    'ssh://-oProxyCommand=evil/x',
    'git@-oProxyCommand=evil:x',
    // A host ssh or a known_hosts file would read as a pattern, an option, or not a host at all.
    'ssh://*/r',
    'ssh://*.example.org/r',
    'ssh://a!b/r',
    'ssh://a,b/r',
    'ssh://%2doProxyCommand=x/r',
    'ssh://ex%61mple.org/r',
    'ssh://1.2.3/r',
    'ssh://example.org:0/r',
    'git@*:x',
    'git@a..b:x',
    // A user that git would hand to ssh as an option, plain or percent-encoded.
    'ssh://-oProxyCommand=x@example.org/r',
    'ssh://%2doProxyCommand=x@example.org/r',
    'ssh://%2DoProxyCommand=x@example.org/r',
    'ssh://%E0%A4%A@example.org/r',
    'https://example.org/a b',
    'ftp://example.org/x',
    'x'.repeat(3000),
  ])
    assert.notEqual(urlProblem(u), null, u);
});

test('validateOutcome: ok, a failure with step and reason; anything else refused', () => {
  assert.deepEqual(validateOutcome({ ok: true }), { ok: true });
  assert.deepEqual(validateOutcome({ ok: false, step: 'clone', reason: 'no space' }), {
    ok: false,
    step: 'clone',
    reason: 'no space',
  });
  for (const v of [
    {},
    { ok: 'yes' },
    { ok: true, x: 1 },
    { ok: false, step: 'Clone', reason: 'r' },
    { ok: false, step: 'clone' },
  ])
    assert.throws(() => validateOutcome(v), { code: 'pair-payload' }, JSON.stringify(v));
});

test('wire: labels; a hello with a bad label or a short share is malformed', () => {
  for (const l of ['laptop', "Anna's phone", 'büro']) assert.equal(isLabel(l), true, l);
  for (const l of ['', ' x', 'a\nb', 'x\u202e', 'y'.repeat(65)]) assert.equal(isLabel(l), false, l);
  const hello = encode({ type: 'hello', sid: new Uint8Array(16), Y: new Uint8Array(32), label: 'laptop' });
  assert.equal(decode(hello).ok, true);
  const bad = [
    encode({ type: 'hello', sid: new Uint8Array(16), Y: new Uint8Array(31), label: 'laptop' }),
    encode({ type: 'hello', sid: new Uint8Array(15), Y: new Uint8Array(32), label: 'laptop' }),
    encode({ type: 'hello', sid: new Uint8Array(16), Y: new Uint8Array(32), label: 'a\u0000b' }),
    encode({ type: 'abort', reason: 'Not A Token' }),
    Uint8Array.from([1, 1, 0x80, 0x80, 0x80, 0x80, 0x01]),
    Uint8Array.from([1]),
    // A confirmation whose length (64) is written in 2 bytes, not 1: one frame, one encoding.
    Uint8Array.from([1, 3, 0xc0, 0x00, ...new Uint8Array(64)]),
    // A 4-byte length prefix (non-shortest, as any 4-byte length under 2 MiB must be).
    Uint8Array.from([1, 3, 0xc0, 0x80, 0x80, 0x00, ...new Uint8Array(64)]),
  ];
  assert.equal(decode(Uint8Array.from([1, 3, 0x40, ...new Uint8Array(64)])).ok, true);
  for (const b of bad) assert.deepEqual((decode(b) as { failure?: string }).failure, 'malformed');
});

test('settingsProblem: our own settings are checked as a receiver would, and must fit one message', () => {
  assert.equal(settingsProblem(SETTINGS), null);
  assert.match(settingsProblem({ ...SETTINGS, key: 'nope' }) ?? '', /^key$/);
  const big = structuredClone(SETTINGS);
  big.remote.urls = Array.from(
    { length: 16 },
    (_, i) => `https://example.org/${String(i).padStart(2000, 'x')}`,
  );
  delete big.remote.knownHosts; // no ssh URL is left for them
  assert.match(settingsProblem(big) ?? '', /more than one pairing message holds/);
});
