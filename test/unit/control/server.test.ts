// The control socket on a real Unix socket in a temp directory: a request and its answer, a
// handler's error, a line that is not JSON, an oversized request, the socket's mode, a socket file
// left by a dead agent, and the client's errors when nobody answers.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlServer } from '../../../src/control/server.js';
import { controlRequest } from '../../../src/control/client.js';
import type { ControlRequest } from '../../../src/control/types.js';
import { tmpDir } from '../../helpers/repos.js';

async function serve(
  t: TestContext,
  handle: (req: ControlRequest) => Promise<unknown>,
  path?: string,
): Promise<{ server: ControlServer; path: string }> {
  const tmp = tmpDir('gas-ctl-');
  const p = path ?? join(tmp.path, 'control.sock');
  const server = new ControlServer(p, handle);
  await server.start();
  t.after(async () => {
    await server.stop();
    tmp.cleanup();
  });
  return { server, path: p };
}

/** Sends raw bytes and returns everything the server wrote before it closed ('no close' when it
 * had not closed after 5 s: a bound on a failure, not a wait). */
function raw(path: string, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const bound = setTimeout(() => {
      sock.destroy();
      resolve('no close');
    }, 5_000);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(data));
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(bound);
      resolve(buf);
    });
  });
}

test('a request reaches the handler and its result comes back', async (t) => {
  const seen: ControlRequest[] = [];
  const { path } = await serve(t, async (req) => {
    seen.push(req);
    return { echo: req.cmd, n: 1 };
  });
  const res = await controlRequest<{ echo: string; n: number }>(path, { cmd: 'pause', remote: 'origin' });
  assert.deepEqual(res, { echo: 'pause', n: 1 });
  assert.deepEqual(seen, [{ cmd: 'pause', remote: 'origin' }]);
  // One JSON answer per line, then the server closes.
  assert.equal(await raw(path, '{"cmd":"status"}\n'), '{"ok":true,"result":{"echo":"status","n":1}}\n');
});

test("a handler's error is answered as an error, and the client rejects with its message", async (t) => {
  const { path } = await serve(t, async () => {
    throw new Error('no such remote: nope');
  });
  await assert.rejects(
    controlRequest(path, { cmd: 'pause', remote: 'nope' }),
    /^Error: no such remote: nope$/,
  );
  assert.equal(await raw(path, '{"cmd":"pause"}\n'), '{"ok":false,"error":"no such remote: nope"}\n');
});

test('a line that is not JSON gets "bad request" and the handler is not called', async (t) => {
  let calls = 0;
  const { path } = await serve(t, async () => ++calls);
  assert.equal(await raw(path, 'status please\n'), '{"ok":false,"error":"bad request"}\n');
  assert.equal(calls, 0);
  // The server still serves the next client.
  assert.equal(await controlRequest(path, { cmd: 'status' }), 1);
});

test('a request longer than 64 KiB is cut off without an answer', async (t) => {
  let calls = 0;
  const { path } = await serve(t, async () => ++calls);
  assert.equal(await raw(path, 'x'.repeat(70 * 1024)), '');
  assert.equal(calls, 0);
});

test('the socket file is 0600', async (t) => {
  const { path } = await serve(t, async () => null);
  const st = statSync(path);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
});

test('a socket file left by a dead agent is replaced', async (t) => {
  const tmp = tmpDir('gas-ctl-');
  t.after(() => tmp.cleanup());
  const path = join(tmp.path, 'control.sock');
  // A server that went away without removing its socket (as after kill -9), and a plain file.
  const dead = new ControlServer(path, async () => 'old');
  await dead.start();
  await dead.stop();
  writeFileSync(path, 'stale');
  const { server } = await serve(t, async () => 'new', path);
  assert.ok(statSync(path).isSocket());
  assert.equal(await controlRequest(path, { cmd: 'status' }), 'new');
  // inPlace says whether the file is still there; restart puts it back.
  unlinkSync(path);
  assert.equal(server.inPlace, false);
  await server.restart();
  assert.equal(server.inPlace, true);
  assert.equal(await controlRequest(path, { cmd: 'status' }), 'new');
});

test('stop removes the socket file; a client then gets NoAgentError (no-agent)', async (t) => {
  const { server, path } = await serve(t, async () => null);
  await server.stop();
  assert.equal(existsSync(path), false);
  await assert.rejects(controlRequest(path, { cmd: 'status' }), { code: 'no-agent' });
});

test('a client whose agent does not answer gives up after its timeout', async (t) => {
  const { path } = await serve(t, () => new Promise(() => undefined));
  await assert.rejects(controlRequest(path, { cmd: 'sync' }, 50), /did not answer within 50 ms/);
});

test('a socket path too long for a Unix socket is reached through a relative path', async (t) => {
  const tmp = tmpDir('gas-ctl-');
  t.after(() => tmp.cleanup());
  const dir = join(tmp.path, 'd'.repeat(40), 'e'.repeat(40));
  mkdirSync(dir, { recursive: true });
  const cwd = process.cwd();
  process.chdir(tmp.path);
  t.after(() => process.chdir(cwd));
  const { path } = await serve(t, async () => 'long', join(dir, 'control.sock'));
  assert.ok(path.length > 107);
  assert.equal(await controlRequest(path, { cmd: 'status' }), 'long');
});
