// configChanges: which changed settings the running agent applies at once, and which take a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configChanges } from '../../../src/agent/config-watch.js';
import type { AgentConfig } from '../../../src/agent/config.js';

const base: AgentConfig = {
  xmpp: { jid: null, service: null, room: null, resource: null, passwordFile: null },
  keyFile: '/r/.git/autosync/key',
  watchRemotes: true,
  repoId: null,
  notifyCommand: null,
  retryMaxMs: 1_800_000,
  transferSlots: 2,
  pollMs: 300_000,
  largeFileWarning: 50 * 1024 * 1024,
  planner: 'tree',
  ignore: [],
};

const cases: Array<{ what: string; change: Partial<AgentConfig>; live: string[]; restart: string[] }> = [
  { what: 'nothing changed', change: {}, live: [], restart: [] },
  {
    what: 'a temporary-file rule added',
    change: { ignore: ['*.bak'] },
    live: ['autosync.ignore'],
    restart: [],
  },
  {
    what: 'the large-file threshold',
    change: { largeFileWarning: 1024 },
    live: ['autosync.largeFileWarning'],
    restart: [],
  },
  { what: 'a hook set', change: { notifyCommand: 'echo hi' }, live: ['autosync.notifyCommand'], restart: [] },
  { what: 'remote watch off', change: { watchRemotes: false }, live: ['autosync.watchRemotes'], restart: [] },
  {
    what: 'retry ceiling, named by its git key',
    change: { retryMaxMs: 60_000 },
    live: ['autosync.retryMaxInterval'],
    restart: [],
  },
  { what: 'poll off', change: { pollMs: 0 }, live: ['autosync.pollInterval'], restart: [] },
  { what: 'transfer slots', change: { transferSlots: 4 }, live: ['autosync.transferSlots'], restart: [] },
  {
    what: 'an XMPP account',
    change: { xmpp: { ...base.xmpp, jid: 'alice@example.org' } },
    live: [],
    restart: ['autosync.xmpp.jid'],
  },
  {
    what: 'room and password file',
    change: { xmpp: { ...base.xmpp, room: 'r@muc.example.org', passwordFile: '/p' } },
    live: [],
    restart: ['autosync.xmpp.passwordFile', 'autosync.xmpp.room'],
  },
  { what: 'the key file', change: { keyFile: '/elsewhere/key' }, live: [], restart: ['autosync.keyFile'] },
  { what: 'the repository id', change: { repoId: 'abc' }, live: [], restart: ['autosync.repoId'] },
  {
    what: 'live and restart keys at once',
    change: {
      notifyCommand: 'x',
      pollMs: 60_000,
      repoId: 'abc',
      xmpp: { ...base.xmpp, service: 'xmpp://h' },
    },
    live: ['autosync.notifyCommand', 'autosync.pollInterval'],
    restart: ['autosync.repoId', 'autosync.xmpp.service'],
  },
];

for (const c of cases) {
  test(`configChanges: ${c.what}`, () => {
    assert.deepEqual(configChanges(base, { ...base, ...c.change }), { live: c.live, restart: c.restart });
  });
}

test('configChanges: a setting the table does not know needs a restart (the safe answer)', () => {
  const later = { ...base, someNewSetting: ['a'] } as unknown as AgentConfig;
  assert.deepEqual(configChanges(base, later), { live: [], restart: ['autosync.someNewSetting'] });
});
