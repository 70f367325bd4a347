// The merger against a scripted GitSync, with node:test's mock timers for its retry timers: fetch
// every remote then merge, one fetch per remote at a time with requests collapsing, paused remotes
// left alone, the backoff of a remote that cannot be fetched (bounded), and a failed merge retried.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Merger } from '../../../src/agent/merger.js';
import { EventBus } from '../../../src/core/bus.js';
import { RemoteUnreachableError } from '../../../src/git/errors.js';
import type { MergeResult } from '../../../src/git/sync.js';
import { createLogger } from '../../../src/core/log.js';
import { drain, gate, ScriptedSync } from '../../helpers/scripted-sync.js';

interface Rig {
  merger: Merger;
  sync: ScriptedSync;
  /** Each onMerged call: the branches merged from, annexMoved, before. */
  merged: Array<[string[], boolean, string | null]>;
  fetched: string[];
  events: string[];
}

/** The one place that builds a Merger (its constructor is being reshaped by issue 9). */
function rig(t: TestContext, remotes = ['a', 'b'], paused: string[] = []): Rig {
  // Retry delays are jittered between 50 % and 100 % of the step; 1 pins them to the step.
  t.mock.method(Math, 'random', () => 1);
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const sync = new ScriptedSync();
  const bus = new EventBus();
  const r: Rig = { merger: null as unknown as Merger, sync, merged: [], fetched: [], events: [] };
  bus.on('fetched', (e) => r.events.push(`fetch ${e.remote} ${e.ok ? 'ok' : 'failed'}`));
  bus.on('merged', (e) => r.events.push(`merge ${e.from}`));
  r.merger = new Merger({
    sync: sync.asGitSync(),
    log: createLogger({}),
    bus,
    remotes: () => remotes,
    onMerged: (results, moved, before) => r.merged.push([results.map((x) => x.from), moved, before]),
    onFetched: (remote) => r.fetched.push(remote),
    paused: (remote) => paused.includes(remote),
  });
  t.after(() => r.merger.stop());
  return r;
}

const start = (m: Merger) => m.start({ fail: (e) => assert.fail(`merger failed: ${String(e)}`) });
const merge = (from: string): MergeResult => ({
  from,
  head: 'f'.repeat(40),
  conflicts: 0,
  fastForward: true,
});
const unreachable = () =>
  new RemoteUnreachableError('git fetch: could not read from remote', ['fetch'], 128, '');

test('start fetches every remote, then merges once', async (t) => {
  const r = rig(t);
  r.sync.mergeIncoming = async () => ({
    merges: [merge('synced/main')],
    annexMoved: false,
    before: 'e'.repeat(40),
  });
  await start(r.merger);
  await r.sync.reached('mergeIncoming', 1);
  await drain();
  assert.deepEqual(r.sync.trace(), ['fetch a', 'fetch b', 'merge'], 'the merge waits for both fetches');
  assert.deepEqual(r.fetched, ['a', 'b'], 'the pusher is asked to compare after each fetch');
  assert.deepEqual(r.merged, [[['synced/main'], false, 'e'.repeat(40)]]);
  assert.deepEqual(r.events, ['fetch a ok', 'fetch b ok', 'merge synced/main']);
  assert.deepEqual(
    [...r.merger.fetchErrors],
    [
      ['a', null],
      ['b', null],
    ],
  );
});

test('nothing merged and no annex change: onMerged is not called; an annex change alone calls it', async (t) => {
  const r = rig(t, ['a']);
  await start(r.merger);
  await r.sync.reached('mergeIncoming', 1);
  await drain();
  assert.deepEqual(r.merged, []);
  r.sync.mergeIncoming = async () => ({ merges: [], annexMoved: true, before: null });
  r.merger.requestMerge();
  await r.sync.reached('mergeIncoming', 2);
  await drain();
  assert.deepEqual(r.merged, [[[], true, null]]);
  assert.equal(r.sync.count('fetch'), 1, 'requestMerge merges without fetching');
});

test('one fetch per remote at a time: requests during a fetch collapse into one more', async (t) => {
  const r = rig(t, ['a', 'b']);
  const hold = gate();
  r.sync.fetch = async (remote) => {
    if (remote === 'a') await hold.promise;
  };
  await start(r.merger);
  await r.sync.reached('fetch', 1, 'a');
  for (let i = 0; i < 10; i++) r.merger.requestFetch(['a']);
  r.merger.requestFetch(); // all remotes
  await drain();
  assert.equal(r.sync.count('fetch', 'a'), 1, 'no second fetch of a while the first runs');
  hold.open();
  await r.sync.reached('mergeIncoming', 2);
  await drain();
  assert.equal(r.sync.count('fetch', 'a'), 2, 'eleven requests made one more fetch');
  assert.equal(r.sync.count('fetch', 'b'), 2);
  assert.equal(r.sync.maxInFlight.get('fetch a'), 1);
  assert.deepEqual(r.sync.trace().slice(-3), ['fetch a', 'fetch b', 'merge'], 'merge after the fetches');
  assert.equal(r.sync.count('mergeIncoming'), 2);
});

test('a paused remote is not fetched; the merge still runs', async (t) => {
  const r = rig(t, ['a', 'b'], ['b']);
  await start(r.merger);
  await r.sync.reached('mergeIncoming', 1);
  r.merger.requestFetch(['b']);
  await r.sync.reached('mergeIncoming', 2);
  await drain();
  assert.equal(r.sync.count('fetch', 'b'), 0);
  assert.equal(r.sync.count('fetch', 'a'), 1);
});

test('fetchAndMerge fetches the remote and merges before it resolves', async (t) => {
  const r = rig(t, ['a', 'b']);
  r.sync.mergeIncoming = async () => ({ merges: [merge('synced/main')], annexMoved: false, before: null });
  await r.merger.fetchAndMerge('b');
  assert.deepEqual(r.sync.trace(), ['fetch b', 'merge']);
  assert.deepEqual(r.merged, [[['synced/main'], false, null]]);
});

test('a remote that cannot be fetched is fetched again with a doubling delay, a bounded number of times', async (t) => {
  const r = rig(t, ['a']);
  r.sync.fetch = async () => {
    throw unreachable();
  };
  await start(r.merger);
  await r.sync.reached('fetch', 1);
  await drain();
  assert.match(r.merger.fetchErrors.get('a') ?? '', /could not read from remote/);
  assert.deepEqual(r.fetched, [], 'a failed fetch does not ask the pusher');
  assert.equal(r.sync.count('mergeIncoming'), 1, 'what is here is merged even so');
  t.mock.timers.tick(999);
  await drain();
  assert.equal(r.sync.count('fetch'), 1, 'not before 1 s');
  // 1 s, 2 s, 4 s ... 128 s: eight retries, then it is left to the next signal.
  for (let n = 1; n <= 8; n++) {
    t.mock.timers.tick(n === 1 ? 1 : 1_000 * 2 ** (n - 1));
    await r.sync.reached('fetch', n + 1);
    await drain(); // the failure has armed the next timer
  }
  t.mock.timers.tick(24 * 3600_000);
  await drain();
  assert.equal(r.sync.count('fetch'), 9, 'no ninth retry');
  assert.deepEqual(
    r.events.filter((e) => e.startsWith('fetch')),
    Array(9).fill('fetch a failed'),
  );
  // A signal still fetches it, and a success clears the error.
  r.sync.fetch = async () => undefined;
  r.merger.requestFetch(['a']);
  await r.sync.reached('fetch', 10);
  await drain();
  assert.equal(r.merger.fetchErrors.get('a'), null);
  assert.deepEqual(r.fetched, ['a']);
});

test('a failed merge is retried after a backoff; success clears the error', async (t) => {
  const r = rig(t, []);
  let failing = true;
  r.sync.mergeIncoming = async () => {
    if (failing) throw new Error('merge: index.lock exists');
    return { merges: [], annexMoved: false, before: null };
  };
  await start(r.merger);
  await r.sync.reached('mergeIncoming', 1);
  await drain();
  assert.equal(r.merger.lastError, 'merge: index.lock exists');
  t.mock.timers.tick(999);
  await drain();
  assert.equal(r.sync.count('mergeIncoming'), 1, 'not before 1 s');
  t.mock.timers.tick(1);
  await r.sync.reached('mergeIncoming', 2);
  await drain();
  // Second failure: 2 s.
  t.mock.timers.tick(1_999);
  await drain();
  assert.equal(r.sync.count('mergeIncoming'), 2, 'not before 2 s');
  failing = false;
  t.mock.timers.tick(1);
  await r.sync.reached('mergeIncoming', 3);
  await drain();
  assert.equal(r.merger.lastError, null);
});

test('stop ends the loop and the fetch retry timers', async (t) => {
  const r = rig(t, ['a']);
  r.sync.fetch = async () => {
    throw unreachable();
  };
  await start(r.merger);
  await r.sync.reached('mergeIncoming', 1);
  await r.merger.stop();
  t.mock.timers.tick(60 * 60_000);
  r.merger.requestFetch();
  await drain();
  assert.equal(r.sync.count('fetch'), 1, 'no fetch after stop');
});

// Issue 9, item 3: the pusher (after a rejected push) and `sync` called fetchAndMerge directly, so a
// remote the merger's loop was fetching was fetched a second time at once. fetchAndMerge now goes
// through the merger's queue.
test("fetchAndMerge while the loop fetches that remote waits for the loop's fetch instead of a second one", async (t) => {
  const r = rig(t, ['a']);
  const hold = gate();
  r.sync.fetch = async () => {
    await hold.promise;
  };
  await start(r.merger);
  await r.sync.reached('fetch', 1, 'a');
  const done = r.merger.fetchAndMerge('a');
  await drain();
  hold.open();
  await done;
  assert.equal(r.sync.maxInFlight.get('fetch a'), 1, 'two fetches of a at once');
});

test('the pusher is asked to compare only after the merge pass that follows the fetch', async (t) => {
  // Asked before the merge, it pushed a branch the remote had just moved ahead of: a rejected push,
  // then a second fetch (a shared bare cloud, the bench's trace: about 100 ms per change).
  const r = rig(t, ['a']);
  const order: string[] = [];
  const merged = gate();
  r.sync.mergeIncoming = async () => {
    order.push('merge started');
    await merged.promise;
    order.push('merge done');
    return { merges: [merge('synced/main')], annexMoved: false, before: 'e'.repeat(40) };
  };
  await start(r.merger);
  await r.sync.reached('mergeIncoming', 1);
  await drain();
  assert.deepEqual(r.fetched, [], 'not asked while the merge runs');
  merged.open();
  await drain();
  assert.deepEqual(order, ['merge started', 'merge done']);
  assert.deepEqual(r.fetched, ['a'], 'asked once the merge is done');
});
