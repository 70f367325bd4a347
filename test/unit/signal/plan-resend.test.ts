// The plans sent lately (signal/plan-resend.ts): which go out again when a peer joins or we
// reconnect, and the three bounds (how many are kept, how old, how often each is resent). Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RESENDS, PLAN_RESEND_MS, RecentPlans } from '../../../src/signal/plan-resend.js';
import type { KeyPlan } from '../../../src/map/tree-plan.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const T0 = 1_800_000_000_000;
const plan = (key: string): KeyPlan => ({ key, origin: U1, edges: [{ from: U1, to: U2, via: 'upload' }] });

test('due: what is sent again, by the age and the resend bounds', () => {
  const table: Array<{ name: string; sent: Array<[string, number]>; asks: number[]; want: string[][] }> = [
    { name: 'nothing sent: nothing due', sent: [], asks: [T0], want: [[]] },
    {
      name: 'a fresh plan is due, oldest first',
      sent: [
        ['k1', T0],
        ['k2', T0 + 1],
      ],
      asks: [T0 + 5],
      want: [['k1', 'k2']],
    },
    {
      name: 'at the age bound it is still due, one past it is forgotten',
      sent: [['k1', T0]],
      asks: [T0 + PLAN_RESEND_MS, T0 + PLAN_RESEND_MS + 1, T0],
      want: [['k1'], [], []],
    },
    {
      name: `resent at most ${MAX_RESENDS} times`,
      sent: [['k1', T0]],
      asks: [T0 + 1, T0 + 2, T0 + 3, T0 + 4],
      want: [['k1'], ['k1'], ['k1'], []],
    },
    {
      name: 'a key sent twice keeps its first sending (and its age)',
      sent: [
        ['k1', T0],
        ['k1', T0 + PLAN_RESEND_MS],
      ],
      asks: [T0 + PLAN_RESEND_MS + 1],
      want: [[]],
    },
  ];
  for (const t of table) {
    const r = new RecentPlans();
    for (const [k, at] of t.sent) r.noteSent(plan(k), at);
    assert.deepEqual(
      t.asks.map((now) => r.due(now).map((p) => p.key)),
      t.want,
      t.name,
    );
  }
});

test('only the newest plans are kept: the oldest goes first', () => {
  const r = new RecentPlans(3);
  for (const k of ['a', 'b', 'c', 'd', 'e']) r.noteSent(plan(k), T0);
  assert.equal(r.size, 3);
  assert.deepEqual(
    r.due(T0).map((p) => p.key),
    ['c', 'd', 'e'],
  );
});
