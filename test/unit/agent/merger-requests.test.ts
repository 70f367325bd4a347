// Merger.fetchAndMerge: callers ask through the merger's queue, so one remote is never fetched
// twice at once, and each caller is answered when that remote's fetch and the merge after it are done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Merger } from '../../../src/agent/merger.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import type { GitSync } from '../../../src/git/sync.js';

/** A GitSync whose fetches wait until released; counts fetches and merge passes. */
function fakeSync() {
  const calls = { fetch: [] as string[], inFlight: 0, maxInFlight: 0, merges: 0 };
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  const sync = {
    async fetch(remote: string) {
      calls.fetch.push(remote);
      calls.inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, calls.inFlight);
      await gate;
      calls.inFlight--;
    },
    async incomingRefs() {
      calls.merges++;
      return { refs: [], annexMoved: false, before: null };
    },
  };
  const open = () => {
    release();
    gate = Promise.resolve();
  };
  return { sync: sync as unknown as GitSync, calls, open };
}

const tick = () => new Promise((r) => setImmediate(r));

test('two callers asking for one remote at once share one fetch and are both answered', async () => {
  const f = fakeSync();
  const m = new Merger({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    remotes: () => ['a'],
    onMerged: () => {},
  });
  await m.start({ fail: (e) => assert.fail(String(e)) });
  await tick();
  // The start-up fetch of 'a' is under way: both callers join it.
  const one = m.fetchAndMerge('a');
  const two = m.fetchAndMerge('a');
  f.open();
  await Promise.all([one, two]);
  assert.equal(f.calls.maxInFlight, 1);
  assert.deepEqual(f.calls.fetch, ['a']);
  await m.stop();
});

test('a caller asking while the merger is stopped gets the fetch and merge done at once', async () => {
  const f = fakeSync();
  f.open();
  const m = new Merger({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    remotes: () => ['a'],
    onMerged: () => {},
  });
  await m.fetchAndMerge('a');
  assert.deepEqual(f.calls.fetch, ['a']);
  assert.equal(f.calls.merges, 1);
});

test('a failed merge rejects the callers waiting on it', async () => {
  const f = fakeSync();
  f.open();
  const m = new Merger({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    remotes: () => ['a'],
    onMerged: () => {},
  });
  (f.sync as unknown as { incomingRefs: () => Promise<never> }).incomingRefs = async () => {
    throw new Error('a merge is in progress');
  };
  await m.start({ fail: (e) => assert.fail(String(e)) });
  await assert.rejects(m.fetchAndMerge('a'), /a merge is in progress/);
  await m.stop();
});
