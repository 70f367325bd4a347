// Which muc#roomconfig fields a pairing room's owner submits, for the forms Prosody and ejabberd send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAIR_ROOM_CONFIG, pairRoomFields } from '../../../src/pair/room-config.js';

const names = (fields: ReadonlyArray<readonly [string, string]>) => fields.map(([n]) => n);

test('pairRoomFields: only what the form shows; everything when no form was read', () => {
  const all = names(PAIR_ROOM_CONFIG);
  const cases: Array<{ what: string; offered: string[] | null; want: string[] }> = [
    { what: 'no form read', offered: null, want: all },
    { what: 'a form with every field (Prosody)', offered: ['FORM_TYPE', ...all], want: all },
    {
      what: 'no history length field (ejabberd 23.01)',
      offered: [
        'FORM_TYPE',
        'muc#roomconfig_persistentroom',
        'muc#roomconfig_publicroom',
        'muc#roomconfig_membersonly',
      ],
      want: ['muc#roomconfig_persistentroom', 'muc#roomconfig_publicroom', 'muc#roomconfig_membersonly'],
    },
    { what: 'an empty form', offered: [], want: [] },
    { what: 'unrelated fields only', offered: ['muc#roomconfig_roomname'], want: [] },
  ];
  for (const c of cases) {
    assert.deepEqual(names(pairRoomFields(c.offered && new Set(c.offered))), c.want, c.what);
  }
  assert.ok(
    PAIR_ROOM_CONFIG.every(([, v]) => v === '0'),
    'a pairing room is never persistent, public or members-only, and keeps no history',
  );
});
