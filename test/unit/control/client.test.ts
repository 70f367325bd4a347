// The control client's "no agent" is a typed error, told apart from an agent that failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../../../src/control/client.js';
import { ControlServer } from '../../../src/control/server.js';
import { NoAgentError, meansNoAgent } from '../../../src/control/errors.js';

const MEANS_NO_AGENT: Array<[unknown, boolean]> = [
  [Object.assign(new Error('connect ENOENT x'), { code: 'ENOENT' }), true],
  [Object.assign(new Error('connect ECONNREFUSED x'), { code: 'ECONNREFUSED' }), true],
  [Object.assign(new Error('x'), { code: 'EACCES' }), false],
  [new Error('spawn git ENOENT'), false],
  [null, false],
];

for (const [e, want] of MEANS_NO_AGENT) {
  test(`meansNoAgent: ${String((e as { code?: string } | null)?.code ?? e)}`, () => {
    assert.equal(meansNoAgent(e), want);
  });
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'autosync-control-'));
}

test('no socket file: NoAgentError, code no-agent', async () => {
  const dir = tmp();
  try {
    await assert.rejects(
      controlRequest(join(dir, 'control.sock'), { cmd: 'status' }, 2_000),
      (e: unknown) => {
        assert.ok(e instanceof NoAgentError);
        assert.equal(e.code, 'no-agent');
        assert.equal(e.message, 'no agent is running for this repository');
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file nobody listens on (ECONNREFUSED): NoAgentError', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'control.sock');
    writeFileSync(path, '');
    await assert.rejects(controlRequest(path, { cmd: 'status' }, 2_000), NoAgentError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an agent whose handler fails: its message, not NoAgentError', async () => {
  const dir = tmp();
  const server = new ControlServer(join(dir, 'control.sock'), () =>
    Promise.reject(new Error('no such remote')),
  );
  try {
    await server.start();
    await assert.rejects(
      controlRequest(join(dir, 'control.sock'), { cmd: 'status' }, 2_000),
      (e: unknown) => {
        assert.ok(!(e instanceof NoAgentError));
        assert.equal((e as Error).message, 'no such remote');
        return true;
      },
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
