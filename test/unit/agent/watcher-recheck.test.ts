// The watcher and removals chokidar dropped (the watcher used chokidar then): chokidar ignores a removal that comes within 100 ms of
// an earlier removal of the same path. git-annex filling a file (unlink, then rename the content
// in) followed at once by a delete raised no event for the delete. The watcher looks again at every
// path a little after its last event and reports one that is gone. Real chokidar, a real directory;
// a stand-in runner answers the one git call (the ignored directories) with nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Watcher } from '../../../src/agent/watcher.js';
import { createLogger } from '../../../src/core/log.js';
import type { Runner } from '../../../src/git/runner.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

test('a delete right after a file was replaced is reported', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const wt = join(tmp.path, 'wt');
  const side = join(tmp.path, 'side');
  mkdirSync(wt);
  mkdirSync(side);
  const file = join(wt, 'photo.jpg');
  writeFileSync(file, 'pointer');
  const calls: Array<{ path: string; exists: boolean }> = [];
  const runner = { git: async () => ({ stdout: '', stderr: '' }) } as unknown as Runner;
  const w = new Watcher({
    workTree: wt,
    runner,
    log: createLogger({}),
    onChange: (p) => calls.push({ path: p, exists: existsSync(join(wt, p)) }),
  });
  await w.start({ fail: (e: Error) => assert.fail(e) } as never);
  t.after(() => w.stop());

  for (let round = 0; round < 5; round++) {
    // As git-annex fills a file: unlink, write aside, rename in ...
    unlinkSync(file);
    writeFileSync(join(side, 'photo.jpg'), `content ${round}`);
    renameSync(join(side, 'photo.jpg'), file);
    const seen = calls.length;
    await waitFor(() => calls.length > seen && calls.at(-1)?.exists, { what: 'the refill reported' });
    // ... and at once a person (or git-annex moving it aside) takes it away.
    renameSync(file, join(side, 'photo.jpg'));
    await waitFor(() => calls.at(-1)?.path === 'photo.jpg' && calls.at(-1)?.exists === false, {
      what: `round ${round}: the delete reported`,
    });
    renameSync(join(side, 'photo.jpg'), file);
    await waitFor(() => calls.at(-1)?.exists === true, { what: 'the file back' });
  }
});
