// A service that fails while it starts and never finishes its start() (the old watcher waited for
// a 'ready' that its error prevented; at 100,000 files the agent then logged nothing for minutes):
// the failure ends the wait, the services after it start, and the failure is handled as usual
// (fatal: left 'failed'; transient: restarted after the backoff).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Supervisor, type Service, type ServiceContext } from '../../../src/core/service.js';
import { FatalServiceError } from '../../../src/core/errors.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { waitFor } from '../../helpers/wait.js';

/** Fails (through ctx.fail) while starting, and its start() never resolves. */
function hangsAfterFailing(err: () => unknown): Service & { starts: number } {
  return {
    name: 'hangs',
    starts: 0,
    start(ctx: ServiceContext) {
      this.starts++;
      setImmediate(() => ctx.fail(err()));
      return new Promise<void>(() => {});
    },
    async stop() {},
  };
}

function after(): Service & { started: boolean } {
  return {
    name: 'after',
    started: false,
    async start() {
      this.started = true;
    },
    async stop() {},
  };
}

test('a fatal failure during a start that never ends: startAll goes on, the service is failed', async () => {
  const sup = new Supervisor(createLogger({}), new EventBus(), 10);
  const bad = hangsAfterFailing(() => new FatalServiceError('out of watches', 'raise the limit'));
  const next = after();
  sup.add(bad);
  sup.add(next);
  let done = false;
  const all = sup.startAll().then(() => (done = true));
  await waitFor(() => done, { what: 'startAll to resolve' });
  await all;
  assert.ok(next.started, 'the service after it started');
  await waitFor(() => sup.statuses()[0]?.state === 'failed', { what: 'the service failed' });
  assert.equal(sup.statuses()[0]?.hint, 'raise the limit');
  assert.equal(bad.starts, 1, 'not restarted');
  await sup.stopAll();
});

test('a transient failure during a start that never ends: restarted after the backoff', async () => {
  const sup = new Supervisor(createLogger({}), new EventBus(), 10);
  const bad = hangsAfterFailing(() => new Error('boom'));
  sup.add(bad);
  sup.add(after());
  let done = false;
  const all = sup.startAll().then(() => (done = true));
  await waitFor(() => done, { what: 'startAll to resolve' });
  await all;
  await waitFor(() => bad.starts >= 2, { what: 'a restart' });
  await waitFor(() => (sup.statuses()[0]?.restarts ?? 0) >= 1, { what: 'the restart counted' });
  await sup.stopAll();
});
