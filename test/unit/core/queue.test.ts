import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mutex } from '../../../src/core/queue.js';

test('Mutex runs sections one at a time in call order; a failure reaches only its caller', async () => {
  const m = new Mutex();
  const log: string[] = [];
  let inside = 0;
  const section = (name: string, fail = false) =>
    m.run(async () => {
      inside++;
      assert.equal(inside, 1, 'one section at a time');
      log.push(`${name}:in`);
      await new Promise((r) => setImmediate(r));
      log.push(`${name}:out`);
      inside--;
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([section('a'), section('b', true), section('c')]);
  assert.deepEqual(log, ['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out']);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a', 'b', 'c'],
  );
  assert.equal(results[1]!.status, 'rejected');
});
