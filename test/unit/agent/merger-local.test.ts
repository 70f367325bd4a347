// The merger and the local work a merge must not clobber (issue 9: the git layer no longer calls
// up into the agent). Before each ref's merge, and again before each retry, the merger flushes the
// committer; the committer's guard goes with the merge; the commits GitSync made first come back
// with the merge (even one whose merge then failed) and reach onCommitted; a work tree that keeps
// changing under the merge is retried a bounded number of times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Merger, type LocalWork } from '../../../src/agent/merger.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { GitError } from '../../../src/git/errors.js';
import { MERGE_RETRIES } from '../../../src/git/merge.js';
import type { CommitResult, GitSync, MergeStep, WorkTreeGuard } from '../../../src/git/sync.js';

const commit = (sha: string): CommitResult => ({
  sha,
  parent: null,
  added: 1,
  modified: 0,
  deleted: 0,
  message: 'm',
});
const inTheWay = () =>
  new GitError('merge failed', ['merge'], 1, "error: Entry 'a.txt' not uptodate. Cannot merge.");

/** A merger on a fake GitSync whose refs and merge steps the test scripts; trace records the order. */
function rig(refs: string[], steps: (ref: string, n: number) => MergeStep) {
  const trace: string[] = [];
  const guards: WorkTreeGuard[] = [];
  const tries = new Map<string, number>();
  const sync = {
    async fetch() {},
    async incomingRefs() {
      return { refs: refs.map((ref) => ({ ref, sha: ref })), annexMoved: false, before: null };
    },
    async mergeRef(ref: string, _sha: string, guard: WorkTreeGuard) {
      const n = (tries.get(ref) ?? 0) + 1;
      tries.set(ref, n);
      trace.push(`merge ${ref}`);
      guards.push(guard);
      return steps(ref, n);
    },
  } as unknown as GitSync;
  const guard: WorkTreeGuard = { leaveOut: () => new Set() };
  const local: LocalWork = {
    flush: async () => {
      trace.push('flush');
    },
    guard,
  };
  const merged: string[][] = [];
  const merger = new Merger({
    sync,
    log: createLogger({}),
    bus: new EventBus(),
    remotes: () => [],
    local,
    onCommitted: (c) => trace.push(`committed ${c.sha}`),
    onMerged: (results) => merged.push(results.map((r) => r.from)),
  });
  return { merger, trace, guards, guard, merged };
}

const mergedStep = (ref: string, committed: CommitResult[] = []): MergeStep => ({
  committed,
  merged: { from: ref, head: 'h', conflicts: 0, fastForward: true },
});

test('each ref: the committer is flushed first, its guard goes along, and what the merge committed first is reported', async () => {
  const r = rig(['x', 'y'], (ref) => mergedStep(ref, ref === 'x' ? [commit('c1')] : []));
  // A stopped merger does the work at once (fetchAndMerge): one fetch, one merge pass.
  await r.merger.fetchAndMerge('origin');
  assert.deepEqual(r.trace, ['flush', 'merge x', 'committed c1', 'flush', 'merge y']);
  assert.ok(
    r.guards.every((g) => g === r.guard),
    'the committer guard',
  );
  assert.deepEqual(r.merged, [['x', 'y']]);
});

test('a commit made before a merge that then failed is still reported, and the failure rejects', async () => {
  const fatal = new GitError('merge-tree failed', ['merge-tree'], 128, 'fatal: bad object');
  const r = rig(['x'], () => ({ committed: [commit('c1')], merged: null, error: fatal }));
  await assert.rejects(r.merger.fetchAndMerge('origin'), /merge-tree failed/);
  assert.deepEqual(r.trace, ['flush', 'merge x', 'committed c1']);
  assert.deepEqual(r.merged, []);
});

test('the work tree changed under the merge: flushed and merged again, at most MERGE_RETRIES times', async () => {
  const again = rig(['x'], (ref, n) =>
    n < 3 ? { committed: [], merged: null, error: inTheWay() } : mergedStep(ref),
  );
  await again.merger.fetchAndMerge('origin');
  assert.deepEqual(again.trace, ['flush', 'merge x', 'flush', 'merge x', 'flush', 'merge x']);
  assert.deepEqual(again.merged, [['x']]);

  const racing = rig(['x'], () => ({ committed: [], merged: null, error: inTheWay() }));
  await assert.rejects(racing.merger.fetchAndMerge('origin'), /kept racing with edits/);
  assert.equal(racing.trace.filter((t) => t === 'merge x').length, MERGE_RETRIES);
  assert.equal(racing.trace.filter((t) => t === 'flush').length, MERGE_RETRIES);
});
