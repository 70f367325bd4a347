// Room mode decisions without a server: the key-derived room password, when an owner rewrites a
// room's configuration, what a rejected signal tells the user, and that the room password never
// reaches the debug log; and the same-account hint for clones whose keys differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import { decideReconfigure, roomPassword } from '../../../src/signal/room.js';
import { otherKeysHint } from '../../../src/signal/account.js';
import { peerLabel, redactForLog, rejectionHint } from '../../../src/signal/xmpp.js';

test('room password: the same for every holder of the key, different per key and per room', () => {
  const k1 = Buffer.alloc(32, 1);
  const k2 = Buffer.alloc(32, 2);
  const p = roomPassword(k1, 'sync@conference.example.org');
  assert.match(p, /^[0-9a-f]{32}$/);
  assert.equal(
    roomPassword(Buffer.from(k1), 'SYNC@conference.example.org'),
    p,
    'room JIDs compare case-blind',
  );
  assert.notEqual(roomPassword(k2, 'sync@conference.example.org'), p);
  assert.notEqual(roomPassword(k1, 'other@conference.example.org'), p);
  assert.ok(!p.includes(k1.toString('hex').slice(0, 8)));
});

test('decideReconfigure: members-only or no password is rewritten; a protected open room is left alone', () => {
  const rows: Array<[Record<string, string>, string | null]> = [
    // Prosody's owner form (no passwordprotectedroom field; the secret is shown).
    [{ 'muc#roomconfig_membersonly': '1', 'muc#roomconfig_roomsecret': '' }, 'members-only'],
    [{ 'muc#roomconfig_membersonly': 'true', 'muc#roomconfig_roomsecret': 'x' }, 'members-only'],
    [{ 'muc#roomconfig_membersonly': '0', 'muc#roomconfig_roomsecret': '' }, 'no password'],
    [{ 'muc#roomconfig_membersonly': '0' }, 'no password'],
    [{ 'muc#roomconfig_membersonly': '0', 'muc#roomconfig_roomsecret': 'abc' }, null],
    [{ 'muc#roomconfig_roomsecret': 'abc' }, null],
    // Servers with the XEP's flag: it decides (the secret may be hidden from the form).
    [{ 'muc#roomconfig_passwordprotectedroom': '0', 'muc#roomconfig_roomsecret': 'abc' }, 'no password'],
    [{ 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': '' }, null],
    [{ 'muc#roomconfig_passwordprotectedroom': 'false' }, 'no password'],
  ];
  for (const [cfg, want] of rows)
    assert.equal(decideReconfigure(new Map(Object.entries(cfg))), want, JSON.stringify(cfg));
});

test('rejectionHint: keys differ, clocks differ, versions differ; nothing to do for replays', () => {
  const rows: Array<[string, RegExp | null]> = [
    [
      'foreign-repo',
      /^signals from peer-1 were rejected: they name another repository, so the repository keys differ .*; copy \.git\/autosync\/key from one clone to the other and restart both agents$/,
    ],
    [
      'bad-mac',
      /^signals from peer-1 were rejected: .*the repository keys differ .*copy \.git\/autosync\/key/,
    ],
    ['stale', /clock and this one differ by more than 10 minutes; set both clocks right/],
    ['malformed', /incompatible version of git-autosync/],
    ['replay', null],
    ['oversized', null],
    ['wrong-route', null],
  ];
  for (const [reason, want] of rows) {
    const h = rejectionHint(reason, 'peer-1');
    if (want === null) assert.equal(h, null, reason);
    else assert.match(h ?? '', want, reason);
  }
});

test('peerLabel: the resource, tamed and bounded', () => {
  assert.equal(peerLabel('room@conference.example.org/git-autosync.laptop.1a2b'), 'git-autosync.laptop.1a2b');
  assert.equal(peerLabel('alice@example.org/phone'), 'phone');
  assert.equal(peerLabel('room@c/evil\nline; rm -rf'), 'evil?line??rm?-rf');
  assert.equal(peerLabel('room@c/' + 'x'.repeat(500)).length, 64);
  assert.equal(peerLabel(undefined), 'an unnamed sender');
});

test('debug log text: the room password is hidden, in the join presence and in the room form', () => {
  const pw = roomPassword(Buffer.alloc(32, 7), 'sync@conference.example.org');
  const join = xml(
    'presence',
    { to: 'sync@conference.example.org/node' },
    xml(
      'x',
      { xmlns: 'http://jabber.org/protocol/muc' },
      xml('history', { maxstanzas: '0' }),
      xml('password', {}, pw),
    ),
  );
  const form = xml(
    'iq',
    { type: 'set', to: 'sync@conference.example.org' },
    xml(
      'query',
      { xmlns: 'http://jabber.org/protocol/muc#owner' },
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'muc#roomconfig_roomsecret' }, xml('value', {}, pw)),
        xml('field', { var: 'muc#roomconfig_membersonly' }, xml('value', {}, '0')),
      ),
    ),
  );
  for (const el of [join, form]) {
    const text = redactForLog(el);
    assert.ok(!text.includes(pw), text);
    assert.ok(text.includes('[redacted]'), text);
  }
  assert.ok(redactForLog(form).includes('muc#roomconfig_membersonly'), 'the rest of the form is kept');
  assert.equal(join.getChild('x')!.getChildText('password'), pw, 'the original stanza is untouched');
});

test('otherKeysHint (same-account mode): only when every agent seen has another key', () => {
  assert.equal(otherKeysHint(0, []), null, 'alone on the account: nothing to say');
  assert.equal(otherKeysHint(1, ['other']), null, 'a peer with our key: the others are other repositories');
  assert.match(
    otherKeysHint(0, ['laptop'])!,
    /^no agent with this clone's repository key is online, but laptop on this account uses a different key: .*copy \.git\/autosync\/key/,
  );
  const many = otherKeysHint(0, ['e', 'd', 'c', 'b', 'a'])!;
  assert.match(many, /but a, b, c and 2 more on this account use a different key/);
});
