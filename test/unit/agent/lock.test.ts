// The pid lock on real files in a temp directory: taken, refused while the agent that holds it is
// alive, taken over from a dead pid or a recycled one, released only by its owner, and reclaimed
// when its file was removed under a running agent.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquirePidLock } from '../../../src/agent/lock.js';
import { agentAlive, readPidFile, startTime } from '../../../src/core/pidfile.js';
import { UserError } from '../../../src/core/errors.js';
import { tmpDir } from '../../helpers/repos.js';

function lockPath(t: TestContext): string {
  const tmp = tmpDir('gas-lock-');
  t.after(() => tmp.cleanup());
  return join(tmp.path, 'agent.pid');
}

/** A pid no process can have: above the kernel's limit. */
const DEAD_PID = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
/** A live process that is not us: the one that started the tests. */
const OTHER = process.ppid;

test('a free lock is taken: our pid and start time, mode 0600, not a recovery', (t) => {
  const path = lockPath(t);
  const lock = acquirePidLock(path);
  assert.equal(lock.recovered, false);
  assert.deepEqual(readPidFile(path), { pid: process.pid, start: startTime(process.pid) });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(agentAlive(path), { pid: process.pid });
  lock.release();
  assert.equal(existsSync(path), false);
  assert.equal(agentAlive(path), null);
});

test('a lock held by a live agent is refused, and left as it was', (t) => {
  const path = lockPath(t);
  const content = `${OTHER} ${startTime(OTHER)}\n`;
  writeFileSync(path, content);
  assert.throws(
    () => acquirePidLock(path),
    (e: unknown) =>
      e instanceof UserError &&
      e.exitCode === 1 &&
      e.message.includes(`already running for this repository (pid ${OTHER})`),
  );
  assert.equal(readFileSync(path, 'utf8'), content);
  // An older file with the pid alone: the same.
  writeFileSync(path, `${OTHER}\n`);
  assert.throws(() => acquirePidLock(path), UserError);
});

test("a dead agent's lock is taken over at once, as a recovery", (t) => {
  const path = lockPath(t);
  writeFileSync(path, `${DEAD_PID} 12345\n`);
  assert.equal(agentAlive(path), null);
  const lock = acquirePidLock(path);
  assert.equal(lock.recovered, true);
  assert.equal(readPidFile(path)?.pid, process.pid);
  lock.release();
});

test('a recycled pid (alive, but started at another time) does not hold the lock', (t) => {
  const path = lockPath(t);
  writeFileSync(path, `${OTHER} 1\n`);
  assert.equal(agentAlive(path), null);
  const lock = acquirePidLock(path);
  assert.equal(lock.recovered, true);
  assert.equal(readPidFile(path)?.pid, process.pid);
});

test('an unreadable pid file is taken over', (t) => {
  const path = lockPath(t);
  writeFileSync(path, 'not a pid\n');
  const lock = acquirePidLock(path);
  assert.equal(lock.recovered, true);
  assert.equal(readPidFile(path)?.pid, process.pid);
});

test('release leaves a lock that another agent holds now', (t) => {
  const path = lockPath(t);
  const lock = acquirePidLock(path);
  writeFileSync(path, `${OTHER} ${startTime(OTHER)}\n`);
  lock.release();
  assert.equal(readPidFile(path)?.pid, OTHER);
});

test('reclaim: ok while the file names us, restored when it was removed, taken when another agent got in', (t) => {
  const path = lockPath(t);
  const lock = acquirePidLock(path);
  assert.equal(lock.reclaim(), 'ok');
  unlinkSync(path);
  assert.equal(lock.reclaim(), 'restored');
  assert.equal(readPidFile(path)?.pid, process.pid);
  writeFileSync(path, `${DEAD_PID} 1\n`);
  assert.equal(lock.reclaim(), 'restored', "a dead agent's pid is replaced");
  writeFileSync(path, `${OTHER} ${startTime(OTHER)}\n`);
  assert.equal(lock.reclaim(), 'taken');
  assert.equal(readPidFile(path)?.pid, OTHER, "a live agent's file is left alone");
});
