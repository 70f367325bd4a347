// The pusher against a scripted GitSync, with node:test's mock timers for its retry timers: pushes
// to every remote, requests that collapse, the backoff of a remote that is down (and its ceiling),
// paused remotes, and the bounded fetch-merge-push rounds after a rejected push.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Pusher, type RemoteState } from '../../../src/agent/pusher.js';
import { EventBus } from '../../../src/core/bus.js';
import { PushRejectedError, RemoteUnreachableError } from '../../../src/git/errors.js';
import type { PushResult } from '../../../src/git/sync.js';
import { createLogger } from '../../../src/core/log.js';
import { drain, gate, ScriptedSync } from '../../helpers/scripted-sync.js';

interface Rig {
  pusher: Pusher;
  sync: ScriptedSync;
  /** Remotes fetched and merged after a rejection, in order. */
  merged: string[];
  /** When set, the fetch-merge after a rejection fails with it. */
  mergeError: Error | null;
  /** Each onPushed call's remotes. */
  pushed: string[][];
  events: Array<{ remote: string; ok: boolean }>;
  remotes: string[];
}

/** The one place that builds a Pusher (its constructor is being reshaped by issue 9). */
function rig(
  t: TestContext,
  remotes = ['a', 'b'],
  retryMaxMs?: number,
  available?: (remote: string) => boolean,
): Rig {
  // Retry delays are jittered between 50 % and 100 % of the step; 1 pins them to the step.
  t.mock.method(Math, 'random', () => 1);
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const sync = new ScriptedSync();
  const bus = new EventBus();
  const r: Rig = {
    pusher: null as unknown as Pusher,
    sync,
    merged: [],
    mergeError: null,
    pushed: [],
    events: [],
    remotes,
  };
  bus.on('pushed', (e) => r.events.push({ remote: e.remote, ok: e.ok }));
  r.pusher = new Pusher({
    sync: sync.asGitSync(),
    log: createLogger({}),
    bus,
    remotes: () => r.remotes,
    merger: {
      fetchAndMerge: async (remote: string) => {
        r.merged.push(remote);
        if (r.mergeError) throw r.mergeError;
      },
    },
    onPushed: (results: PushResult[]) => r.pushed.push(results.map((x) => x.remote)),
    retryMaxMs,
    available,
  });
  t.after(() => r.pusher.stop());
  return r;
}

const start = (p: Pusher) => p.start({ fail: (e) => assert.fail(`pusher failed: ${String(e)}`) });
const state = (r: Rig, name: string): RemoteState => r.pusher.allStates().find((s) => s.name === name)!;
const down = (remote: string) =>
  new RemoteUnreachableError(`git push ${remote}: could not read from remote`, ['push'], 128, '');

test('start pushes every remote once and reports what was pushed', async (t) => {
  const r = rig(t);
  await start(r.pusher);
  await r.sync.reached('push', 2);
  await drain();
  assert.deepEqual(r.sync.trace().sort(), ['needsPush a', 'needsPush b', 'push a', 'push b']);
  assert.deepEqual(r.pushed, [['a', 'b']]);
  assert.deepEqual(r.events, [
    { remote: 'a', ok: true },
    { remote: 'b', ok: true },
  ]);
  for (const name of ['a', 'b']) {
    const s = state(r, name);
    assert.equal(s.lastPushOk, true, name);
    assert.equal(s.lastPushAt, new Date(1_000_000).toISOString(), name);
    assert.equal(s.failures, 0, name);
  }
});

test('a remote that already has our refs is not pushed, and nothing is reported as pushed', async (t) => {
  const r = rig(t);
  r.sync.needsPush = async () => false;
  const outcome = await r.pusher.pushAll();
  assert.equal(r.sync.count('push'), 0);
  assert.deepEqual(r.pushed, []);
  assert.deepEqual(
    [...outcome],
    [
      ['a', null],
      ['b', null],
    ],
  );
  assert.equal(state(r, 'a').lastPushOk, true, 'an up-to-date remote counts as pushed');
});

test('requests made while a push runs collapse into one more pass', async (t) => {
  const r = rig(t, ['a']);
  const hold = gate();
  r.sync.push = async (remote) => {
    await hold.promise;
    return { remote, refs: ['refs/heads/synced/main'], upToDate: false };
  };
  await start(r.pusher);
  await r.sync.reached('push', 1);
  for (let i = 0; i < 10; i++) r.pusher.request();
  hold.open();
  await r.sync.reached('push', 2);
  await drain();
  assert.equal(r.sync.count('needsPush'), 2, 'ten requests during a push make one more pass');
  assert.equal(r.sync.maxInFlight.get('push a'), 1, 'never two pushes of one remote at once');
  assert.deepEqual(r.pushed, [['a'], ['a']]);
});

test('a remote that is down is retried with a doubling delay, and caught up when it is back', async (t) => {
  const r = rig(t, ['a']);
  let failing = true;
  r.sync.push = async (remote) => {
    if (failing) throw down(remote);
    return { remote, refs: ['refs/heads/synced/main'], upToDate: false };
  };
  await start(r.pusher);
  await r.sync.reached('push', 1);
  await drain();
  let s = state(r, 'a');
  assert.equal(s.lastPushOk, false);
  assert.match(s.error ?? '', /could not read from remote/);
  assert.equal(s.failures, 1);
  assert.equal(s.nextRetryAt, 1_000_000 + 2_000, 'first retry after 2 s');
  assert.deepEqual(r.events, [{ remote: 'a', ok: false }]);

  t.mock.timers.tick(1_999);
  await drain();
  assert.equal(r.sync.count('push'), 1, 'not retried before the delay');
  t.mock.timers.tick(1);
  await r.sync.reached('push', 2);
  await drain();
  s = state(r, 'a');
  assert.equal(s.failures, 2);
  assert.equal(s.nextRetryAt, 1_000_000 + 2_000 + 4_000, 'second retry after 4 s');

  failing = false;
  t.mock.timers.tick(4_000);
  await r.sync.reached('push', 3);
  await drain();
  s = state(r, 'a');
  assert.equal(s.lastPushOk, true);
  assert.equal(s.error, null);
  assert.equal(s.failures, 0);
  assert.equal(s.nextRetryAt, null);
  t.mock.timers.tick(60 * 60_000);
  await drain();
  assert.equal(r.sync.count('push'), 3, 'no retry is left armed once the remote took the push');
});

test('the retry delay stops growing at the ceiling, and setRetryMax changes the ceiling', async (t) => {
  const r = rig(t, ['a'], 5_000);
  r.sync.push = async (remote) => {
    throw down(remote);
  };
  await start(r.pusher);
  // 2 s, 4 s, then the 5 s ceiling instead of 8 s.
  let now = 1_000_000;
  for (const [n, delay] of [
    [1, 2_000],
    [2, 4_000],
    [3, 5_000],
    [4, 5_000],
  ] as const) {
    await r.sync.reached('push', n);
    await drain();
    assert.equal(state(r, 'a').nextRetryAt, now + delay, `delay after failure ${n}`);
    t.mock.timers.tick(delay);
    now += delay;
  }
  r.pusher.setRetryMax(3_000);
  await r.sync.reached('push', 5);
  await drain();
  assert.equal(state(r, 'a').nextRetryAt, now + 3_000, 'the new ceiling applies to the next delay');
});

test('a remote that is away (its drive not mounted) is not pushed, not retried, not failing', async (t) => {
  const away = new Set(['b']);
  const r = rig(t, ['a', 'b'], undefined, (x) => !away.has(x));
  const outcome = await r.pusher.pushAll();
  assert.deepEqual([...outcome.keys()], ['a'], 'the away remote has no outcome');
  assert.equal(r.sync.count('needsPush', 'b'), 0);
  assert.equal(state(r, 'b').error, null);
  assert.equal(state(r, 'b').nextRetryAt, null, 'no retry timer');
  // Back (the mount watcher's port asks for a push): pushed at once.
  away.delete('b');
  r.pusher.request();
  await start(r.pusher);
  await r.sync.reached('push', 1, 'b');
  await drain();
  assert.equal(state(r, 'b').lastPushOk, true);
});

test('a paused remote is not pushed; resuming pushes it at once', async (t) => {
  const r = rig(t);
  r.pusher.setPaused('b', true);
  const outcome = await r.pusher.pushAll();
  assert.deepEqual([...outcome.keys()], ['a'], 'the paused remote has no outcome');
  assert.equal(r.sync.count('needsPush', 'b'), 0);
  assert.equal(state(r, 'b').paused, true);

  await start(r.pusher);
  await r.sync.reached('push', 2, 'a');
  await drain();
  assert.equal(r.sync.count('push', 'b'), 0, 'the start-up pass skips it too');
  r.pusher.setPaused('b', false);
  await r.sync.reached('push', 1, 'b');
  assert.equal(state(r, 'b').paused, false);

  r.pusher.setPaused(null, true);
  assert.deepEqual(
    r.pusher.allStates().map((s) => s.paused),
    [true, true],
    'no remote named: all are paused',
  );
  const before = r.sync.calls.length;
  await r.pusher.pushAll();
  assert.equal(r.sync.calls.length, before, 'nothing is looked at while all are paused');
});

test('a rejected push fetches and merges, then pushes again', async (t) => {
  const r = rig(t, ['a']);
  let rejections = 1;
  r.sync.push = async (remote) => {
    if (rejections-- > 0) throw new PushRejectedError('rejected (fetch first)', ['push'], 1, '');
    return { remote, refs: ['refs/heads/synced/main'], upToDate: false };
  };
  const outcome = await r.pusher.pushAll();
  assert.deepEqual(r.merged, ['a']);
  assert.deepEqual(r.sync.trace(), ['needsPush a', 'push a', 'needsPush a', 'push a']);
  assert.equal(outcome.get('a'), null, 'no error');
  assert.equal(state(r, 'a').lastPushOk, true);
  assert.deepEqual(r.pushed, [['a']]);
});

test('a push that stays rejected is given up after a bounded number of rounds, and a retry is armed', async (t) => {
  const r = rig(t, ['a']);
  r.sync.push = async () => {
    throw new PushRejectedError('rejected (fetch first)', ['push'], 1, '');
  };
  const outcome = await r.pusher.pushAll();
  // Four fetch-merge rounds after the first rejection: five pushes in all.
  assert.equal(r.merged.length, 4);
  assert.equal(r.sync.count('push'), 5);
  assert.match(outcome.get('a') ?? '', /rejected/);
  const s = state(r, 'a');
  assert.equal(s.lastPushOk, false);
  assert.equal(s.failures, 1);
  assert.equal(s.nextRetryAt, 1_000_000 + 2_000);
  assert.deepEqual(r.events, [{ remote: 'a', ok: false }]);
});

test('stop ends the loop and the retry timers', async (t) => {
  const r = rig(t, ['a']);
  r.sync.push = async (remote) => {
    throw down(remote);
  };
  await start(r.pusher);
  await r.sync.reached('push', 1);
  await drain();
  assert.notEqual(state(r, 'a').nextRetryAt, null);
  await r.pusher.stop();
  t.mock.timers.tick(60 * 60_000);
  r.pusher.request();
  await drain();
  assert.equal(r.sync.count('push'), 1, 'no push after stop');
});

test('a fetch-merge that fails after a rejection counts as a failed push, retried later', async (t) => {
  const r = rig(t, ['a']);
  r.sync.push = async () => {
    throw new PushRejectedError('rejected (fetch first)', ['push'], 1, '');
  };
  r.mergeError = new Error('fetch a: could not read from remote');
  const outcome = await r.pusher.pushAll();
  assert.equal(outcome.get('a'), 'fetch a: could not read from remote');
  assert.deepEqual(r.merged, ['a']);
  assert.equal(r.sync.count('push'), 1, 'no push after the failed merge');
  const s = state(r, 'a');
  assert.equal(s.failures, 1);
  assert.equal(s.nextRetryAt, 1_000_000 + 2_000);
});
