import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Supervisor, type Service, type ServiceContext } from '../../../src/core/service.js';
import { backoffDelay } from '../../../src/core/backoff.js';
import { Wakeup } from '../../../src/core/queue.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { waitFor } from '../../helpers/wait.js';

test('backoffDelay doubles, is jittered within [step/2, step] and capped', () => {
  assert.equal(
    backoffDelay(1, 1000, 60_000, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(1, 1000, 60_000, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(3, 1000, 60_000, () => 1),
    4000,
  );
  assert.equal(
    backoffDelay(30, 1000, 60_000, () => 1),
    60_000,
  );
});

test('Wakeup collapses many requests into one wake-up', async () => {
  const w = new Wakeup();
  for (let i = 0; i < 10; i++) w.request();
  await w.wait();
  assert.equal(w.isPending, false);
});

test('Supervisor restarts a crashed service and reports the crash', async () => {
  let starts = 0;
  let ctxRef: ServiceContext | null = null;
  const svc: Service = {
    name: 'flaky',
    async start(ctx) {
      starts++;
      ctxRef = ctx;
    },
    async stop() {},
  };
  const bus = new EventBus();
  const crashes: string[] = [];
  bus.on('serviceChanged', (e) => e.state === 'crashed' && crashes.push(e.error ?? ''));
  const sup = new Supervisor(createLogger({}), bus, 10);
  sup.add(svc);
  await sup.startAll();
  assert.equal(starts, 1);
  ctxRef!.fail(new Error('boom'));
  await waitFor(() => starts === 2, { timeoutMs: 5000, what: 'restart' });
  assert.deepEqual(crashes, ['boom']);
  const st = sup.statuses()[0]!;
  assert.equal(st.restarts, 1);
  assert.equal(st.lastError, 'boom');
  await sup.stopAll();
});
