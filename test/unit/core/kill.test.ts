// killChild never signals a child that has no pid: Node's own kill() on a failed spawn, before its
// 'error' event, signals pid 0, our whole process group (this test's runner included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { killChild } from '../../../src/core/kill.js';

test('a child whose spawn failed is not signalled (and we are still here to say so)', async () => {
  const c = spawn('/nonexistent/findmnt', [], { stdio: 'ignore' });
  const failed = new Promise((r) => c.once('error', r));
  assert.equal(killChild(c), false);
  await failed;
  assert.equal(killChild(c), false, 'nor after its error');
});

test('a running child is signalled; an exited one is not', async () => {
  const c = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((r) => c.once('exit', (_code, sig) => r(sig)));
  assert.equal(killChild(c), true);
  assert.equal(await exited, 'SIGTERM');
  assert.equal(killChild(c), false);
});
