// childEnv and the secrets it keeps out of every child: real children (sh, git) print their env.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runner, SECRET_ENV, childEnv, secretEnv, takeSecretEnv } from '../../../src/git/runner.js';

test('childEnv: no secret variable, the rest of the environment, BASE_ENV only for tools', () => {
  process.env.GIT_AUTOSYNC_XMPP_PASSWORD = 'hunter2-unit';
  process.env.GIT_AUTOSYNC_PAIR_CODE = 'code-unit';
  process.env.GAS_UNIT_KEEP = 'kept';
  try {
    for (const kind of ['tool', 'user'] as const) {
      const env = childEnv({ EXTRA: 'x' }, kind);
      for (const name of SECRET_ENV) assert.equal(env[name], undefined, `${kind}: ${name}`);
      assert.equal(env.GAS_UNIT_KEEP, 'kept');
      assert.equal(env.EXTRA, 'x');
      assert.equal(env.GIT_TERMINAL_PROMPT, kind === 'tool' ? '0' : process.env.GIT_TERMINAL_PROMPT);
    }
    // Not even when a caller hands one in on purpose.
    assert.equal(childEnv({ GIT_AUTOSYNC_XMPP_PASSWORD: 'x' }).GIT_AUTOSYNC_XMPP_PASSWORD, undefined);
    // A real child sees none of them.
    const out = execFileSync('/bin/sh', ['-c', 'env'], { env: childEnv({}, 'user'), encoding: 'utf8' });
    assert.ok(!out.includes('hunter2-unit') && !out.includes('code-unit'));
    assert.ok(out.includes('GAS_UNIT_KEEP=kept'));
  } finally {
    delete process.env.GAS_UNIT_KEEP;
  }
});

test('takeSecretEnv moves the secrets out of process.env and keeps them in memory; git children never see them', async () => {
  process.env.GIT_AUTOSYNC_XMPP_PASSWORD = 'hunter3-unit';
  takeSecretEnv();
  assert.equal(process.env.GIT_AUTOSYNC_XMPP_PASSWORD, undefined);
  assert.equal(secretEnv('GIT_AUTOSYNC_XMPP_PASSWORD'), 'hunter3-unit');
  takeSecretEnv(); // idempotent
  assert.equal(secretEnv('GIT_AUTOSYNC_XMPP_PASSWORD'), 'hunter3-unit');
  // Set again later in this process: the new value is the one kept.
  process.env.GIT_AUTOSYNC_XMPP_PASSWORD = 'hunter4-unit';
  const dir = mkdtempSync(join(tmpdir(), 'gas-env-'));
  try {
    // git runs an alias through the shell: it prints the environment git itself was given.
    const r = await new Runner(dir).git(['-c', 'alias.e=!env', 'e']);
    assert.ok(!r.stdout.includes('hunter') && r.stdout.includes('LC_ALL=C'), r.stdout.slice(0, 200));
    takeSecretEnv();
    assert.equal(secretEnv('GIT_AUTOSYNC_XMPP_PASSWORD'), 'hunter4-unit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
