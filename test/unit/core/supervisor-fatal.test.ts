// The supervisor tells a fatal failure from a transient one: a transient one is restarted after a
// backoff, a fatal one (a FatalServiceError, the kernel out of inotify watches) is not, and status
// says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Supervisor, classifyFailure, INOTIFY_HINT, type Service } from '../../../src/core/service.js';
import { FatalServiceError } from '../../../src/core/errors.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { DiskFullError } from '../../../src/git/errors.js';
import type { StatusJson } from '../../../src/status/types.js';
import { reasons } from '../../../src/cli/render.js';

/** What fs.watch throws when inotify_add_watch fails with ENOSPC (libuv's words). */
function inotifyError(path = '/r/deep'): NodeJS.ErrnoException {
  return Object.assign(
    new Error(`ENOSPC: System limit for number of file watchers reached, watch '${path}'`),
    {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'watch',
      path,
    },
  );
}

test('classifyFailure: which failures are fatal, and the hint for each', () => {
  const diskFull = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    syscall: 'write',
  });
  const cases: Array<{ name: string; err: unknown; fatal: boolean; hint?: string | RegExp }> = [
    { name: 'a plain error', err: new Error('boom'), fatal: false },
    { name: 'a string', err: 'boom', fatal: false },
    { name: 'null', err: null, fatal: false },
    { name: 'a full disk on write (ENOSPC, syscall write)', err: diskFull, fatal: false },
    {
      name: "git's full disk",
      err: new DiskFullError('full', [], 128, 'No space left on device'),
      fatal: false,
    },
    { name: 'FatalServiceError', err: new FatalServiceError('no', 'do this'), fatal: true, hint: 'do this' },
    { name: 'fs.watch out of inotify watches', err: inotifyError(), fatal: true, hint: INOTIFY_HINT },
    {
      name: "chokidar's wrapped message, no code",
      err: new Error('System limit for number of file watchers reached'),
      fatal: true,
      hint: INOTIFY_HINT,
    },
    {
      name: 'ENOSPC from watch, other words',
      err: Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'watch' }),
      fatal: true,
    },
  ];
  for (const c of cases) {
    const f = classifyFailure(c.err);
    assert.equal(f.fatal, c.fatal, c.name);
    if (f.fatal && c.hint !== undefined) assert.equal(f.hint, c.hint, c.name);
  }
  assert.match(INOTIFY_HINT, /sysctl fs\.inotify\.max_user_watches=\d+/);
  assert.equal(
    classifyFailure(inotifyError('/a')).message,
    "ENOSPC: System limit for number of file watchers reached, watch '/a'",
  );
});

function statusWith(services: StatusJson['services']): StatusJson {
  return {
    running: true,
    pid: 42,
    repository: '/r',
    mode: 'git',
    branch: 'main',
    head: 'a'.repeat(40),
    pendingChanges: 0,
    pendingCounted: 'all',
    scanning: false,
    remotes: [],
    signal: { transport: 'refs-watch', state: 'online', peers: [], rejected: 0, error: null },
    transfers: { queued: 0, active: [], failed: 0 },
    services,
    stuck: [],
    errors: { commit: null, merge: null },
    checkedOut: 'main',
    warnings: [],
    node: 'n',
    host: 'h',
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

test('a service that runs out of inotify watches is not restarted, and status says what to do', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const starts = { watcher: 0, flaky: 0 };
  const watcher: Service = {
    name: 'watcher',
    async start() {
      starts.watcher++;
      throw inotifyError();
    },
    async stop() {},
  };
  // The same supervisor restarts a transient failure under the same clock: the contrast.
  const flaky: Service = {
    name: 'flaky',
    async start() {
      starts.flaky++;
      if (starts.flaky === 1) throw new Error('boom');
    },
    async stop() {},
  };
  const bus = new EventBus();
  const events: string[] = [];
  bus.on('serviceChanged', (e) => events.push(`${e.name}:${e.state}`));
  const sup = new Supervisor(createLogger({}), bus, 10);
  sup.add(watcher);
  sup.add(flaky);
  await sup.startAll();
  await settle();
  for (let i = 0; i < 20; i++) {
    t.mock.timers.tick(60_000); // far past every backoff: 20 minutes in all
    await settle();
  }
  assert.equal(starts.watcher, 1, 'the watcher is not restarted');
  assert.equal(starts.flaky, 2, 'the transient failure is restarted');
  const [w, f] = sup.statuses();
  assert.equal(w!.state, 'failed');
  assert.equal(w!.restarts, 0);
  assert.match(w!.lastError ?? '', /System limit for number of file watchers reached/);
  assert.equal(w!.hint, INOTIFY_HINT);
  assert.equal(f!.state, 'running');
  assert.equal(f!.hint, undefined);
  assert.deepEqual(events, ['watcher:failed', 'flaky:crashed', 'flaky:running']);
  // The human status: one problem line with the message and the command to run.
  const lines = reasons(statusWith(sup.statuses())).filter((l) => / watcher /.test(l));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(
    lines[0]!,
    /^problem {5}service watcher failed: ENOSPC: System limit for number of file watchers/,
  );
  assert.match(lines[0]!, /it is not restarted: .*sudo sysctl fs\.inotify\.max_user_watches=524288/);
  await sup.stopAll();
});

test('a FatalServiceError reported after start stops the service for good', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let starts = 0;
  let stops = 0;
  let fail: ((e: unknown) => void) | null = null;
  const svc: Service = {
    name: 'watcher',
    async start(ctx) {
      starts++;
      fail = (e) => ctx.fail(e);
    },
    async stop() {
      stops++;
    },
  };
  const sup = new Supervisor(createLogger({}), new EventBus(), 10);
  sup.add(svc);
  await sup.startAll();
  fail!(new FatalServiceError('out of inotify watches', INOTIFY_HINT));
  await settle();
  t.mock.timers.tick(10 * 60_000);
  await settle();
  assert.equal(starts, 1);
  assert.equal(stops, 1, 'stopped once, so it holds nothing');
  const st = sup.statuses()[0]!;
  assert.deepEqual(st, {
    name: 'watcher',
    state: 'failed',
    restarts: 0,
    lastError: 'out of inotify watches',
    hint: INOTIFY_HINT,
  });
  await sup.stopAll();
  assert.equal(stops, 1, 'a failed service is not stopped again');
});
