// The one check of each configuration key (shared by init, the wizard and start), as a table:
// right values pass, wrong ones get a line that names the key and shows a right value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_CHECKS, configProblem, parseGitBool } from '../../../src/agent/config.js';

const RIGHT: Array<[string, string]> = [
  ['autosync.xmpp.jid', 'alice@example.org'],
  ['autosync.xmpp.jid', 'a.b-c_d@xmpp.example.co.uk'],
  ['autosync.xmpp.jid', 'bob@localhost'],
  ['autosync.xmpp.jid', 'bob@127.0.0.1'],
  ['autosync.xmpp.jid', 'zoë@exämple.org'],
  ['autosync.xmpp.room', 'sync@conference.example.org'],
  ['autosync.xmpp.service', 'xmpp://example.org:5222'],
  ['autosync.xmpp.service', 'xmpps://example.org:5223'],
  ['autosync.xmpp.service', 'xmpp://127.0.0.1:5222'],
  ['autosync.xmpp.service', 'xmpp://[::1]:5222'],
  ['autosync.xmpp.service', 'xmpps://example.org'],
  ['autosync.xmpp.resource', 'laptop-notes'],
  ['autosync.xmpp.passwordFile', '/home/u/.xmpp-pw'],
  ['autosync.keyFile', 'key'],
  ['autosync.repoId', 'notes-1'],
  ['autosync.watchRemotes', 'true'],
  ['autosync.watchRemotes', 'OFF'],
  ['autosync.watchRemotes', 'yes'],
  ['autosync.watchRemotes', '0'],
  ['autosync.transferSlots', '1'],
  ['autosync.transferSlots', '32'],
  ['autosync.pollInterval', '0'],
  ['autosync.pollInterval', '300'],
  ['autosync.largeFileWarning', '0'],
  ['autosync.largeFileWarning', '52428800'],
  ['autosync.planner', 'tree'],
  ['autosync.planner', 'Flood'],
  ['autosync.retryMaxInterval', '1800'],
  ['autosync.notifyCommand', ''], // not checked: any shell command
  ['autosync.somethingNew', 'x'], // keys we do not know are left alone
];

/** key, value, what the line must say (after the key and value). */
const WRONG: Array<[string, string, RegExp]> = [
  ['autosync.xmpp.jid', 'alice', /like alice@example\.org \(it has no "@"\)/],
  ['autosync.xmpp.jid', '', /like alice@example\.org/],
  ['autosync.xmpp.jid', 'alice@example.org/phone', /without a "\/resource"/],
  ['autosync.xmpp.jid', 'al ice@example.org', /before "@"/],
  ['autosync.xmpp.jid', '@example.org', /before "@"/],
  ['autosync.xmpp.jid', 'alice@', /after "@" is not a domain/],
  ['autosync.xmpp.jid', 'alice@exa mple.org', /after "@" is not a domain/],
  ['autosync.xmpp.jid', 'alice@example..org', /after "@" is not a domain/],
  ['autosync.xmpp.jid', 'a@b@c', /after "@" is not a domain/],
  ['autosync.xmpp.room', 'myroom', /room address .*like sync@conference\.example\.org/],
  ['autosync.xmpp.room', 'room@conference.example.org/nick', /without a "\/resource"/],
  ['autosync.xmpp.service', 'http://x', /xmpp:\/\/host:port .* or xmpps:\/\/host:port/],
  ['autosync.xmpp.service', 'example.org', /xmpp:\/\/host:port/],
  ['autosync.xmpp.service', 'xmpp://u:p@example.org', /xmpp:\/\/host:port/],
  ['autosync.xmpp.service', 'xmpp://example.org/path', /xmpp:\/\/host:port/],
  ['autosync.xmpp.service', '', /xmpp:\/\/host:port/],
  ['autosync.xmpp.resource', 'my laptop', /without spaces or "\/"/],
  ['autosync.xmpp.resource', 'a/b', /without spaces or "\/"/],
  ['autosync.xmpp.resource', '', /1 to 256 characters/],
  ['autosync.xmpp.passwordFile', '', /path of a file/],
  ['autosync.repoId', '-x', /1 to 128 of/],
  ['autosync.watchRemotes', 'banana', /true or false/],
  ['autosync.watchRemotes', '', /true or false/],
  ['autosync.watchRemotes', '2', /true or false/],
  ['autosync.transferSlots', '1.5', /whole number of transfers from 1 to 32/],
  ['autosync.transferSlots', '0', /from 1 to 32/],
  ['autosync.transferSlots', '33', /from 1 to 32/],
  ['autosync.transferSlots', '', /whole number/],
  ['autosync.pollInterval', '', /whole number of seconds from 0 to 86400 \(0 turns polling off\)/],
  ['autosync.pollInterval', ' 5', /whole number/],
  ['autosync.pollInterval', '-1', /whole number/],
  ['autosync.pollInterval', '1k', /whole number/],
  ['autosync.pollInterval', '1e3', /whole number/],
  ['autosync.largeFileWarning', '50M', /whole number of bytes/],
  ['autosync.largeFileWarning', '', /whole number of bytes/],
  ['autosync.planner', 'mesh', /must be tree or flood/],
  ['autosync.retryMaxInterval', '0', /from 1 to 604800/],
  ['autosync.retryMaxInterval', '0x10', /whole number/],
];

for (const [key, value] of RIGHT) {
  test(`right: ${key} = ${JSON.stringify(value)}`, () => assert.equal(configProblem(key, value), null));
}

for (const [key, value, re] of WRONG) {
  test(`wrong: ${key} = ${JSON.stringify(value)}`, () => {
    const line = configProblem(key, value);
    assert.ok(line, 'refused');
    assert.ok(line.startsWith(`${key} ${JSON.stringify(value)} is wrong: it must `), line);
    assert.match(line, re);
    assert.doesNotMatch(line, /\n/);
  });
}

test('git prints keys in lower case: the check still applies and the line uses the documented name', () => {
  assert.match(configProblem('autosync.transferslots', '1.5')!, /^autosync\.transferSlots "1\.5" is wrong/);
});

test('a key written without "= value" is git\'s true: right for a boolean, wrong for the rest', () => {
  assert.equal(configProblem('autosync.watchRemotes', null), null);
  assert.ok(configProblem('autosync.pollInterval', null));
  assert.ok(configProblem('autosync.xmpp.jid', null));
});

test("git's booleans, and nothing else", () => {
  for (const v of ['true', 'yes', 'on', '1', 'TRUE', 'On']) assert.equal(parseGitBool(v), true, v);
  for (const v of ['false', 'no', 'off', '0', 'False']) assert.equal(parseGitBool(v), false, v);
  for (const v of ['banana', '', '2', 'y', 'tru']) assert.equal(parseGitBool(v), null, v);
});

test('every checked key is in the tables above', () => {
  const seen = new Set([...RIGHT, ...WRONG].map(([k]) => k));
  for (const k of Object.keys(CONFIG_CHECKS)) assert.ok(seen.has(k), k);
});
