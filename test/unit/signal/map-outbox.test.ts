// MapOutbox: what the network map wants told to the peers, waiting for the XMPP transport to drain
// it. Only the newest edges matter; plans are kept in order, each once, and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapOutbox } from '../../../src/signal/map-outbox.js';
import { MAX_PENDING_PLANS } from '../../../src/signal/xmpp-outbox.js';
import { createLogger } from '../../../src/core/log.js';
import type { KeyPlan, OwnEdges } from '../../../src/signal/types.js';

const SELF = '11111111-1111-1111-1111-111111111111';
const edges = (remote: string): OwnEdges => ({
  self: SELF,
  edges: [
    { to: '22222222-2222-2222-2222-222222222222', remote, cost: 100, type: 'git-local', reachable: true },
  ],
});
const plan = (key: string): KeyPlan => ({ key, origin: SELF, edges: [] });

test('nothing waits at first; a write asks for a wake-up', () => {
  const box = new MapOutbox(createLogger({}));
  assert.equal(box.wake.isPending, false);
  assert.deepEqual(box.take(), { edges: null, plans: [] });
  box.announceEdges(edges('a'));
  assert.equal(box.wake.isPending, true);
});

test('only the newest edges are taken, as a copy, and taking empties the box', () => {
  const box = new MapOutbox(createLogger({}));
  const first = edges('a');
  box.announceEdges(first);
  box.announceEdges(edges('b'));
  first.edges[0]!.remote = 'changed';
  const got = box.take();
  assert.equal(got.edges?.edges[0]?.remote, 'b');
  assert.deepEqual(box.take(), { edges: null, plans: [] });
});

test('plans are taken in order, each once', () => {
  const box = new MapOutbox(createLogger({}));
  box.announcePlan(plan('k1'));
  box.announcePlan(plan('k2'));
  assert.deepEqual(
    box.take().plans.map((p) => p.key),
    ['k1', 'k2'],
  );
  assert.deepEqual(box.take().plans, []);
});

test('plans beyond the bound are left out (those keys are flooded); edges still get in', () => {
  const box = new MapOutbox(createLogger({}));
  for (let i = 0; i < MAX_PENDING_PLANS + 5; i++) box.announcePlan(plan(`k${i}`));
  box.announceEdges(edges('a'));
  const got = box.take();
  assert.equal(got.plans.length, MAX_PENDING_PLANS);
  assert.equal(got.plans.at(-1)?.key, `k${MAX_PENDING_PLANS - 1}`);
  assert.notEqual(got.edges, null);
});
