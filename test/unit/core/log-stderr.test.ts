// The agent's log lines to stderr (start --foreground into a pipe): written at once, dropped when
// the pipe is full or gone, never blocking and never throwing. A real FIFO, opened non-blocking for
// reading and writing, stands in for a pipe whose reader has stalled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { stderrLines } from '../../../src/core/log.js';
import { tmpDir } from '../../helpers/repos.js';

function drain(fd: number): string {
  const out: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      out.push(Buffer.from(buf.subarray(0, n)));
    } catch {
      break; // EAGAIN: nothing more in the pipe
    }
  }
  return Buffer.concat(out).toString();
}

test('a full pipe: lines are dropped without blocking; a line cut off is followed by a fresh line', () => {
  const tmp = tmpDir();
  const fifo = join(tmp.path, 'stderr');
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    const dest = stderrLines(fd);
    // Lines over PIPE_BUF (4096) are written in pieces, so the one that meets the full pipe is cut.
    const line = (i: number) => `${String(i).padStart(4, '0')}:${'x'.repeat(5000)}\n`;
    for (let i = 0; i < 40; i++) dest.write(line(i)); // 200 KB into a 64 KiB pipe: returns
    const first = drain(fd);
    assert.ok(first.length > 0 && first.length < 40 * 5006, `some but not all written (${first.length})`);
    dest.write(line(99));
    const after = drain(fd);
    assert.ok(after.startsWith('\n') || first.endsWith('\n'), 'the next line starts on its own line');
    assert.ok(after.split('\n').includes(line(99).trimEnd()), 'the next line whole, on a line of its own');
  } finally {
    closeSync(fd);
    tmp.cleanup();
  }
});

test('a closed descriptor: nothing thrown, and nothing more is tried', () => {
  const tmp = tmpDir();
  const fd = openSync(join(tmp.path, 'f'), 'w');
  closeSync(fd);
  const dest = stderrLines(fd);
  dest.write('one\n'); // EBADF
  dest.write('two\n');
  tmp.cleanup();
});
