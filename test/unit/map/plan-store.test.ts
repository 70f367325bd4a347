// The plans a clone follows (map/plan-store.ts): when a key stays in its tree, when it leaves it
// for flood, and the bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanStore } from '../../../src/map/plan-store.js';
import { CONFIRM_MS, type KeyPlan } from '../../../src/map/tree-plan.js';

const id = (c: string) => `${c.repeat(8)}-0000-4000-8000-000000000000`;
const [A1, A2, CL, B1, B2] = [id('a'), id('b'), id('e'), id('c'), id('d')];
const T = 1_000_000;
const plan = (key = 'K'): KeyPlan => ({
  key,
  origin: A1,
  edges: [
    { from: A1, to: A2, via: 'download' },
    { from: A1, to: CL, via: 'upload' },
    { from: CL, to: B1, via: 'download' },
    { from: B1, to: B2, via: 'download' },
  ],
});
const keys = (present: string[]) => [{ key: 'K', present }];

test('the origin follows its plan until a child fails or is late', () => {
  const s = new PlanStore(A1);
  assert.equal(s.put(plan(), T), true);
  assert.equal(s.put({ ...plan(), edges: [] }, T), false, 'the first plan for a key stands');
  assert.deepEqual([...s.inTree(keys([A1]), T).plans.keys()], ['K']);
  s.failed('K', CL);
  const r = s.inTree(keys([A1]), T + 1);
  assert.deepEqual([...r.plans.keys()], []);
  assert.match(r.leftTree[0]!.why, /failed/);
  assert.deepEqual(s.inTree(keys([A1]), T + 2).leftTree, [], 'said once');
});

test('a late child floods the key; confirmed children keep it in the tree', () => {
  const s = new PlanStore(A1);
  s.put(plan(), T);
  assert.equal(s.inTree(keys([A1, A2, CL]), T + CONFIRM_MS + 1).plans.size, 1);
  const s2 = new PlanStore(A1);
  s2.put(plan(), T);
  const r = s2.inTree(keys([A1, CL]), T + CONFIRM_MS + 1);
  assert.equal(r.plans.size, 0);
  assert.match(r.leftTree[0]!.why, new RegExp(`${A2} did not confirm`));
});

test('a receiver waits for its parent within the bound, then floods', () => {
  const s = new PlanStore(B2);
  s.put(plan(), T);
  assert.equal(s.inTree(keys([A1, CL]), T + CONFIRM_MS).plans.size, 1);
  const r = s.inTree(keys([A1, CL]), T + CONFIRM_MS + 1);
  assert.equal(r.plans.size, 0);
  assert.match(r.leftTree[0]!.why, new RegExp(`did not come from ${B1}`));
});

test('a plan every member has is done and forgotten; the store is bounded', () => {
  const s = new PlanStore(A1, 2);
  s.put(plan(), T);
  s.inTree(keys([A1, A2, CL, B1, B2]), T);
  assert.equal(s.has('K'), false);
  s.put(plan('K1'), T);
  s.put(plan('K2'), T);
  s.put(plan('K3'), T);
  assert.deepEqual(
    ['K1', 'K2', 'K3'].map((k) => s.has(k)),
    [false, true, true],
  );
});
