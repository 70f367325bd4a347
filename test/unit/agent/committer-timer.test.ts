// The committer's pass timer: one timer, not one per event. A later due time keeps the timer, which
// looks again when it fires; an earlier one sets it again; nothing pending clears it. Mock timers
// (Date included: during a tick, Date.now() reads the tick's end), no files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassTimer } from '../../../src/agent/committer-timer.js';

function setup(t: import('node:test').TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const state = { dueAt: null as number | null, free: true, runs: [] as number[] };
  const timer = new PassTimer({
    dueIn: (now) => (state.dueAt === null ? null : Math.max(0, state.dueAt - now)),
    free: () => state.free,
    run: () => state.runs.push(Date.now()),
  });
  t.after(() => timer.stop());
  return { state, timer, tick: (ms: number) => t.mock.timers.tick(ms) };
}

test('a burst moves the quiet period on: one pass, when the last event has been quiet long enough', (t) => {
  const { state, timer, tick } = setup(t);
  // Events at 0, 100 and 200 ms; each moves the pass to 250 ms after it.
  for (let i = 0; i < 3; i++) {
    state.dueAt = Date.now() + 250;
    timer.schedule();
    tick(100);
  }
  // 300 ms now; the last event was at 200, so the pass is due at 450 and not before.
  tick(149);
  assert.deepEqual(state.runs, [], 'not while the quiet period runs');
  tick(1);
  assert.deepEqual(state.runs, [450]);
  tick(1000);
  assert.deepEqual(state.runs, [450], 'once');
});

test('an earlier due time sets the timer again; nothing pending clears it; a busy committer waits', (t) => {
  const { state, timer, tick } = setup(t);
  state.dueAt = 1000;
  timer.schedule();
  state.dueAt = 300; // the batch is full: commit sooner
  timer.schedule();
  tick(300);
  assert.deepEqual(state.runs, [300]);

  state.dueAt = 800;
  timer.schedule();
  state.dueAt = null; // taken by a flush meanwhile
  timer.schedule();
  tick(1000);
  assert.deepEqual(state.runs, [300], 'no pass for nothing');

  state.dueAt = Date.now() + 100;
  timer.schedule();
  state.free = false; // a pass runs: it schedules again when it ends
  tick(200);
  assert.deepEqual(state.runs, [300]);
  state.free = true;
  timer.schedule();
  assert.deepEqual(state.runs, [300], 'schedule itself never runs a pass');
  const overdue = Date.now();
  tick(1);
  assert.deepEqual(state.runs, [300, overdue + 1], 'an overdue pass runs at once');
});
