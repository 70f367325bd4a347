// The hook as a service: a notifyCommand that hangs is ended with all it started, at spawn's
// timeout and at stop. Real /bin/sh and sleep; the group is looked up in /proc with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HookSignaller } from '../../../src/signal/hook.js';
import { createLogger } from '../../../src/core/log.js';
import { groupMembers } from '../../helpers/proc.js';
import { waitFor } from '../../helpers/wait.js';

function setup(t: { after: (fn: () => void) => void }, timeoutMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'gas-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  const warnings: string[] = [];
  const log = createLogger({});
  log.warn = ((_o: unknown, msg?: string) => void warnings.push(msg ?? '')) as typeof log.warn;
  const hook = new HookSignaller({
    // The shell writes its pid (its process group: the hook runs detached), then waits on a child.
    command: () => `echo $$ > '${pidFile}'; sleep 1000`,
    workTree: dir,
    log,
    timeoutMs,
    graceMs: 500,
  });
  /** The hook's group once its shell and its sleep both run. */
  const running = () =>
    waitFor(
      () => {
        let pgid = 0;
        try {
          pgid = Number(readFileSync(pidFile, 'utf8').trim());
        } catch {
          return null;
        }
        return pgid > 0 && groupMembers(pgid).length >= 2 ? pgid : null;
      },
      { what: 'the hook with its sleep', timeoutMs: 10_000 },
    );
  return { hook, running, warnings };
}

test('a hanging notifyCommand (sleep 1000) is gone, with its sleep, once stop() resolves', async (t) => {
  const { hook, running } = setup(t, 600_000);
  await hook.start();
  hook.notify({ remotes: ['b'], refs: { 'refs/heads/main': 'a'.repeat(40) } });
  const pgid = await running();
  t.after(() => {
    try {
      process.kill(-pgid, 'SIGKILL'); // only if the test failed
    } catch {
      // gone, as it should be
    }
  });
  await hook.stop(0);
  await waitFor(() => groupMembers(pgid).length === 0, {
    what: () => `the hook's processes to be gone (left: ${groupMembers(pgid).join(' ')})`,
    timeoutMs: 5_000,
  });
  // Stopped: no more runs.
  hook.notify({ remotes: ['b'], refs: {} });
  assert.deepEqual(groupMembers(pgid), []);
});

test("a hanging notifyCommand is ended at spawn's timeout, its whole group, and the timeout is logged", async (t) => {
  // 1 s: time enough for the shell to start its sleep, so the group has a child to leave behind.
  const { hook, running, warnings } = setup(t, 1_000);
  hook.notify({ remotes: ['b'], refs: {} });
  const pgid = await running();
  t.after(() => {
    try {
      process.kill(-pgid, 'SIGKILL'); // only if the test failed
    } catch {
      // gone, as it should be
    }
  });
  await waitFor(() => warnings.includes('notifyCommand timed out; its processes were killed'), {
    what: 'the timeout to be logged',
    timeoutMs: 10_000,
  });
  assert.deepEqual(groupMembers(pgid), [], "the hook's processes after its timeout");
  await hook.stop(0);
});
