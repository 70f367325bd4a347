// Every verb that usage.ts declares has a file under src/cli/commands/ that runs it, and no file
// runs a verb that is not declared (it could never be reached: the parser refuses it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { VERBS } from '../../../src/cli/usage.js';

test('one command per declared verb', async () => {
  assert.deepEqual(Object.keys(COMMANDS).sort(), VERBS.map((v) => v.name).sort());
  for (const [verb, load] of Object.entries(COMMANDS)) {
    assert.equal(typeof (await load()).run, 'function', verb);
  }
});
