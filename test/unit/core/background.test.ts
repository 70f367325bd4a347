import { test } from 'node:test';
import assert from 'node:assert/strict';
import { background, errorText } from '../../../src/core/background.js';

function recorder() {
  const lines: Array<{ obj: object; msg: string }> = [];
  return { lines, log: { error: (obj: object, msg: string) => lines.push({ obj, msg }) } };
}

/** Lets every settled promise's handlers run. */
const settle = () => new Promise((r) => setImmediate(r));

test('background: work that resolves logs nothing', async () => {
  const { lines, log } = recorder();
  background(Promise.resolve(42), log, 'the scan');
  await settle();
  assert.deepEqual(lines, []);
});

test('background: work that rejects logs one error naming the work, and no rejection escapes', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const { lines, log } = recorder();
    const err = new Error('git status failed');
    background(Promise.reject(err), log, 'the reconciliation scan');
    await settle();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.msg, 'the reconciliation scan failed');
    assert.deepEqual(lines[0]!.obj, { err: err.stack });
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('errorText: the stack of an Error, else the value as text', () => {
  const noStack = new Error('boom');
  noStack.stack = undefined;
  const cases: Array<[unknown, string]> = [
    [noStack, 'boom'],
    ['plain text', 'plain text'],
    [7, '7'],
    [undefined, 'undefined'],
  ];
  for (const [input, want] of cases) assert.equal(errorText(input), want);
  const withStack = new Error('x');
  assert.equal(errorText(withStack), withStack.stack);
});
