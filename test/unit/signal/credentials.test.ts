import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync, symlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chooseMechanism,
  CredentialError,
  findPassword,
  InsecureConnectionError,
  isLoopbackHost,
  KeyringUnavailableError,
  osKeyring,
  parseService,
  PASSWORD_ENV,
  readPasswordFile,
  writePasswordFile,
  type Keyring,
} from '../../../src/signal/credentials.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'gas-cred-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const fakeKeyring = (value: string | null): Keyring => ({
  get: async () => value,
  set: async () => {},
});
const brokenKeyring: Keyring = {
  get: async () => {
    throw new KeyringUnavailableError('no keyring daemon on this host');
  },
  set: async () => {},
};

test('password file: written 0600, read back, trailing newline dropped', (t) => {
  const d = tmp(t);
  const f = join(d, 'sub', 'xmpp-password');
  writePasswordFile(f, 's3cret pass');
  assert.equal(statSync(f).mode & 0o777, 0o600);
  assert.equal(readPasswordFile(f), 's3cret pass');
  writePasswordFile(f, 'second');
  assert.equal(readPasswordFile(f), 'second');
  assert.deepEqual(readdirSync(join(d, 'sub')), ['xmpp-password'], 'no temp files left');
});

test('password file readable by group or others is refused with a clear error', (t) => {
  const d = tmp(t);
  const f = join(d, 'pw');
  writeFileSync(f, 'secret-value\n');
  for (const mode of [0o644, 0o640, 0o604, 0o660, 0o601]) {
    chmodSync(f, mode);
    assert.throws(
      () => readPasswordFile(f),
      (e: Error) =>
        e instanceof CredentialError &&
        e.message.includes('readable by group or others') &&
        e.message.includes('chmod 600') &&
        !e.message.includes('secret-value'),
    );
  }
  chmodSync(f, 0o400);
  assert.equal(readPasswordFile(f), 'secret-value');
});

test('password file: missing, empty, symlink, directory are errors', (t) => {
  const d = tmp(t);
  assert.throws(
    () => readPasswordFile(join(d, 'nope')),
    /cannot read .*nope \(autosync\.xmpp\.passwordFile\): ENOENT/,
  );
  const empty = join(d, 'empty');
  writeFileSync(empty, '\n', { mode: 0o600 });
  assert.throws(() => readPasswordFile(empty), /is empty/);
  const real = join(d, 'real');
  writeFileSync(real, 'x', { mode: 0o600 });
  const link = join(d, 'link');
  symlinkSync(real, link);
  assert.throws(() => readPasswordFile(link), CredentialError);
  assert.throws(() => readPasswordFile(d), CredentialError);
});

test('lookup order: env, then file, then keyring', async (t) => {
  const d = tmp(t);
  const f = join(d, 'pw');
  writePasswordFile(f, 'from-file');
  const jid = 'alice@example.org';
  assert.deepEqual(
    await findPassword({
      jid,
      passwordFile: f,
      env: { [PASSWORD_ENV]: 'from-env' },
      keyring: fakeKeyring('from-keyring'),
    }),
    { password: 'from-env', source: 'env' },
  );
  assert.deepEqual(
    await findPassword({ jid, passwordFile: f, env: {}, keyring: fakeKeyring('from-keyring') }),
    {
      password: 'from-file',
      source: 'file',
    },
  );
  assert.deepEqual(
    await findPassword({ jid, env: { [PASSWORD_ENV]: '' }, keyring: fakeKeyring('from-keyring') }),
    {
      password: 'from-keyring',
      source: 'keyring',
    },
  );
});

test('an unsafe password file is an error, not a fall-through to the keyring', async (t) => {
  const d = tmp(t);
  const f = join(d, 'pw');
  writeFileSync(f, 'x', { mode: 0o644 });
  chmodSync(f, 0o644);
  await assert.rejects(
    findPassword({ jid: 'a@b', passwordFile: f, env: {}, keyring: fakeKeyring('k') }),
    /readable by group or others/,
  );
});

test('no password anywhere: clear error; a missing keyring is "not available", not a crash', async () => {
  const { scrub } = await import('../../../src/core/log.js');
  await assert.rejects(findPassword({ jid: 'a@b', env: {}, keyring: brokenKeyring }), (e: Error) => {
    assert.ok(e instanceof CredentialError);
    assert.match(e.message, /^a@b has no XMPP password; set GIT_AUTOSYNC_XMPP_PASSWORD/);
    assert.match(e.message, /not available/);
    assert.match(e.message, /GIT_AUTOSYNC_XMPP_PASSWORD/);
    assert.equal(scrub(e.message), e.message, 'the log scrubber leaves the message intact');
    return true;
  });
  await assert.rejects(findPassword({ jid: 'a@b', env: {}, keyring: fakeKeyring(null) }), /has no entry/);
  await assert.rejects(findPassword({ jid: 'a@b', env: {}, keyring: null }), /has no XMPP password/);
});

test('the real OS keyring on a headless host answers or says unavailable, never crashes', async () => {
  try {
    const v = await osKeyring.get('git-autosync-test', `nobody-${process.pid}@example.invalid`);
    assert.equal(v, null);
  } catch (e) {
    assert.ok(e instanceof KeyringUnavailableError, String(e));
  }
});

test('service URIs: xmpp:// STARTTLS, xmpps:// direct TLS, default SRV; others refused', () => {
  assert.deepEqual(parseService('xmpp://127.0.0.1:5222', 'localhost'), {
    service: 'xmpp://127.0.0.1:5222',
    protocol: 'xmpp:',
    host: '127.0.0.1',
    port: 5222,
  });
  assert.equal(parseService('xmpps://chat.example.org', 'example.org').protocol, 'xmpps:');
  assert.equal(parseService('xmpp://[::1]:5222', 'x').host, '::1');
  assert.deepEqual(parseService(undefined, 'example.org'), {
    service: 'example.org',
    protocol: 'srv',
    host: 'example.org',
    port: null,
  });
  for (const bad of [
    'ws://h/xmpp',
    'http://h',
    'xmpp://u:p@h',
    'xmpp://h/path',
    'not a uri',
    'xmpp://h?x=1',
  ]) {
    assert.throws(() => parseService(bad, 'd'), CredentialError, bad);
  }
});

test('loopback detection', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of [
    '10.0.0.1',
    '128.0.0.1',
    '::2',
    'localhost.example.org',
    '127.0.0.1.nip.io',
    '',
    undefined,
    '0.0.0.0',
  ]) {
    assert.equal(isLoopbackHost(h), false, String(h));
  }
});

test('SASL mechanism: TLS prefers SCRAM; plaintext only to loopback, and then PLAIN explicitly', () => {
  const offered = ['SCRAM-SHA-1', 'PLAIN'];
  assert.equal(chooseMechanism({ secure: true, remoteAddress: '203.0.113.5', offered }), 'SCRAM-SHA-1');
  assert.equal(chooseMechanism({ secure: true, remoteAddress: '203.0.113.5', offered: ['PLAIN'] }), 'PLAIN');
  assert.equal(chooseMechanism({ secure: false, remoteAddress: '127.0.0.1', offered }), 'PLAIN');
  assert.equal(
    chooseMechanism({ secure: false, remoteAddress: '::1', offered: ['SCRAM-SHA-1'] }),
    'SCRAM-SHA-1',
  );
  for (const addr of ['203.0.113.5', '192.168.1.2', undefined]) {
    assert.throws(
      () => chooseMechanism({ secure: false, remoteAddress: addr, offered }),
      (e: Error) =>
        e instanceof InsecureConnectionError && /refusing to authenticate without TLS/.test(e.message),
    );
  }
  assert.throws(
    () => chooseMechanism({ secure: true, remoteAddress: 'x', offered: ['X-OAUTH2'] }),
    /no supported SASL/,
  );
});
