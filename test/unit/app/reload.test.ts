// The reload's decisions about the remote list (app/reload.ts) and the live settings it writes
// (app/live.ts): only the live keys change, and every commit reads the new rules at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addedRemotes, sameRemotes } from '../../../src/app/reload.js';
import { LiveConfig } from '../../../src/app/live.js';
import type { AgentConfig } from '../../../src/agent/config.js';

const r = (name: string, url = `/srv/${name}.git`) => ({ name, url });

test('sameRemotes and addedRemotes: a remote is its name and its URL', () => {
  const rows: Array<[string, ReturnType<typeof r>[], ReturnType<typeof r>[], boolean, string[]]> = [
    ['nothing changed', [r('a'), r('b')], [r('a'), r('b')], true, []],
    ['one added', [r('a')], [r('a'), r('b')], false, ['b']],
    ['one removed', [r('a'), r('b')], [r('a')], false, []],
    ['re-pointed: new', [r('a')], [r('a', '/elsewhere.git')], false, ['a']],
    ['reordered', [r('a'), r('b')], [r('b'), r('a')], false, []],
    ['first remote', [], [r('a')], false, ['a']],
  ];
  for (const [what, prev, next, same, added] of rows) {
    assert.equal(sameRemotes(prev, next), same, what);
    assert.deepEqual(addedRemotes(prev, next), added, what);
  }
});

test('LiveConfig: applyLive changes the live keys only, and the commit settings with them', () => {
  const base = {
    xmpp: { jid: 'a@example.org', service: null, room: null, resource: null, passwordFile: null },
    keyFile: '/k',
    watchRemotes: true,
    repoId: null,
    notifyCommand: null,
    retryMaxMs: 1000,
    transferSlots: 2,
    pollMs: 5000,
    largeFileWarning: 100,
    ignore: [],
  } as unknown as AgentConfig;
  const live = new LiveConfig(base);
  assert.equal(live.commitSettings().ignore.ignores('notes.bak'), false);
  live.applyLive({
    ...base,
    xmpp: { ...base.xmpp, jid: 'b@example.org' },
    keyFile: '/other',
    notifyCommand: 'true',
    largeFileWarning: 7,
    ignore: ['*.bak'],
  });
  assert.equal(live.config.xmpp.jid, 'a@example.org', 'xmpp takes a restart');
  assert.equal(live.config.keyFile, '/k', 'the key file takes a restart');
  assert.equal(live.config.notifyCommand, 'true');
  assert.equal(live.commitSettings().largeFileWarning, 7);
  assert.equal(live.commitSettings().ignore.ignores('notes.bak'), true);
});
