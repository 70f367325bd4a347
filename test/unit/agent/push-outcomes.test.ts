// PushOutcomes, the one home of each remote's last push outcome: the pusher writes it, the network
// map reads it (app/map-service.ts announces a remote whose last push failed as unreachable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pusher } from '../../../src/agent/pusher.js';
import { PushOutcomes } from '../../../src/agent/push-outcomes.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { RemoteUnreachableError } from '../../../src/git/errors.js';
import { ScriptedSync } from '../../helpers/scripted-sync.js';

test('a remote never pushed has no outcome, and an entry is made once and kept', () => {
  const o = new PushOutcomes();
  assert.equal(o.lastPushOk('origin'), null);
  const e = o.entry('origin');
  assert.equal(e.lastPushOk, null);
  assert.equal(o.entry('origin'), e, 'the same record each time: the pusher changes it in place');
  e.lastPushOk = false;
  assert.equal(o.lastPushOk('origin'), false);
  assert.equal(o.lastPushOk('other'), null);
});

test('the pusher writes each outcome into the PushOutcomes it is given, which others read', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const sync = new ScriptedSync();
  sync.push = async (remote) => {
    if (remote === 'b') throw new RemoteUnreachableError('git push b: could not read', ['push'], 128, '');
    return { remote, refs: ['refs/heads/main'], upToDate: false };
  };
  const outcomes = new PushOutcomes();
  const pusher = new Pusher({
    sync: sync.asGitSync(),
    log: createLogger({}),
    bus: new EventBus(),
    remotes: () => ['a', 'b', 'c'],
    merger: { fetchAndMerge: async () => undefined },
    onPushed: () => undefined,
    outcomes,
  });
  t.after(() => pusher.stop());
  sync.needsPush = async (remote) => remote !== 'c';
  await pusher.pushAll();
  assert.equal(outcomes.lastPushOk('a'), true);
  assert.equal(outcomes.lastPushOk('b'), false);
  assert.equal(outcomes.lastPushOk('c'), true, 'a remote that already has our refs counts as pushed');
  assert.deepEqual(
    pusher.allStates().map((s) => [s.name, s.lastPushOk]),
    [
      ['a', true],
      ['b', false],
      ['c', true],
    ],
    'status reads the same records',
  );
});
