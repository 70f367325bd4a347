// The rendezvous's pure parts: a frame read from a stanza (strict base64, bounded), the room named
// after the nameplate only, and what a channel failure at opening means for the user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import { frameOf, NS_PAIR, pairRoom } from '../../../src/pair/rendezvous-xmpp.js';
import { ChannelError, PAIR_MESSAGE_MAX } from '../../../src/pair/channel.js';
import { PairError } from '../../../src/pair/errors.js';
import { openFailure } from '../../../src/cli/commands/pair.js';

const msg = (text: string, ns = NS_PAIR) => xml('message', {}, xml('pair', { xmlns: ns }, text));

test('frameOf: strict base64 in our namespace, bounded', () => {
  const rows: Array<[string, ReturnType<typeof msg>, Uint8Array | 'oversized' | null]> = [
    ['a frame', msg(Buffer.from('hi!').toString('base64')), Uint8Array.from(Buffer.from('hi!'))],
    ['another namespace', msg('aGkh', 'urn:other'), null],
    ['empty', msg(''), null],
    ['not base64', msg('a*b='), null],
    ['bad padding length', msg('aGk'), null],
    ['whitespace inside', msg('aG k h'), null],
    ['too long a text', msg('A'.repeat(Math.ceil(PAIR_MESSAGE_MAX / 3) * 4 + 4)), 'oversized'],
    [
      'decodes to more than the limit',
      msg(Buffer.alloc(PAIR_MESSAGE_MAX + 1).toString('base64')),
      'oversized',
    ],
    [
      'exactly the limit',
      msg(Buffer.alloc(PAIR_MESSAGE_MAX).toString('base64')),
      new Uint8Array(PAIR_MESSAGE_MAX),
    ],
  ];
  for (const [what, st, want] of rows) assert.deepEqual(frameOf(st), want, what);
  assert.equal(frameOf(xml('message', {}, xml('body', {}, 'aGkh'))), null, 'no <pair/>');
});

test('pairRoom: named after the nameplate only, lower case', () => {
  assert.equal(pairRoom(412, 'Conference.Example.org'), 'autosync-pair-412@conference.example.org');
});

test('openFailure: each channel failure at opening is one pairing error', () => {
  const rows: Array<[ConstructorParameters<typeof ChannelError>[1], 'offer' | 'accept', string]> = [
    ['login', 'offer', 'pair-login'],
    ['unreachable', 'accept', 'pair-unreachable'],
    ['timeout', 'accept', 'pair-no-offer'],
    ['timeout', 'offer', 'pair-timeout'],
    ['crowded', 'offer', 'pair-crowded'],
    ['closed', 'accept', 'pair-unreachable'],
  ];
  for (const [failure, role, code] of rows) {
    const e = openFailure(new ChannelError('x', failure), role);
    assert.ok(e instanceof PairError);
    assert.equal(e.code, code, `${failure} (${role})`);
  }
  const other = new Error('other');
  assert.equal(openFailure(other, 'offer'), other);
});
