// The one reader of the remotes' annex UUIDs (annex/remotes.ts), used by transfer/ and map/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRemoteConfigRecords, parseRemoteUuids } from '../../../src/annex/remotes.js';

const U1 = '53a9896b-f1c5-4865-83a3-a4bc1c340653';
const U2 = '53a9896b-f1c5-4865-83a3-a4bc1c340654';

test('parseRemoteUuids: remote name -> UUID, from git config -z records', () => {
  const rows: Array<[z: string, want: Array<[string, string]>]> = [
    ['', []],
    [`remote.origin.annex-uuid\n${U1}\0`, [['origin', U1]]],
    [
      `remote.a.annex-uuid\n${U1}\0remote.b.annex-uuid\n${U2}\0`,
      [
        ['a', U1],
        ['b', U2],
      ],
    ],
    [`remote.usb.disk.annex-uuid\n${U1}\0`, [['usb.disk', U1]]], // a dot in the remote's name
    [`remote.a.annex-uuid\nnot-a-uuid\0`, []],
    [`remote.a.annex-uuid\n${U1.toUpperCase()}\0`, []], // git-annex writes lower case
    [`remote.a.annex-uuid\n\0`, []],
    [`remote.-bad.annex-uuid\n${U1}\0`, []], // a name that would read as an option
    [`remote.a.url\n../a\0`, []],
    [`remote.a.annex-uuid\n${U1}\0remote.a.annex-uuid\n${U2}\0`, [['a', U2]]], // the last one wins
  ];
  for (const [z, want] of rows) assert.deepEqual([...parseRemoteUuids(z)], want, JSON.stringify(z));
});

test('parseRemoteConfigRecords: remote, lower-cased variable, value', () => {
  assert.deepEqual(parseRemoteConfigRecords('remote.My.Annex-Cost\n50\0remote.x\0bogus\0'), [
    { remote: 'My', variable: 'annex-cost', value: '50' },
  ]);
});
