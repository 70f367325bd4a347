// Pause state (src/agent/pause.ts): what a pause or resume does to the saved state (pure, a table),
// and that PauseState applies and saves it like the agent did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PausedRemotes,
  PauseState,
  readPauseState,
  withPause,
  type SavedPause,
} from '../../../src/agent/pause.js';

test('withPause: a pause or resume of one remote, or of all', () => {
  const cases: Array<{ st: SavedPause; remote: string | null; paused: boolean; want: SavedPause }> = [
    { st: { all: false, remotes: [] }, remote: 'a', paused: true, want: { all: false, remotes: ['a'] } },
    { st: { all: false, remotes: ['a'] }, remote: 'a', paused: true, want: { all: false, remotes: ['a'] } },
    {
      st: { all: false, remotes: ['a', 'b'] },
      remote: 'a',
      paused: false,
      want: { all: false, remotes: ['b'] },
    },
    // Pausing all keeps the remotes paused one by one; resuming all lifts them too.
    { st: { all: false, remotes: ['a'] }, remote: null, paused: true, want: { all: true, remotes: ['a'] } },
    { st: { all: true, remotes: ['a'] }, remote: null, paused: false, want: { all: false, remotes: [] } },
    { st: { all: true, remotes: [] }, remote: 'b', paused: true, want: { all: true, remotes: ['b'] } },
  ];
  for (const c of cases) assert.deepEqual(withPause(c.st, c.remote, c.paused), c.want, JSON.stringify(c));
});

test('PauseState: set applies to the pusher and the transfers and saves; a new one applies what was saved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pause-'));
  try {
    const paused = new PausedRemotes();
    const calls: string[] = [];
    const pusher = {
      setPaused: (r: string | null, p: boolean) => {
        paused.set(r ? [r] : ['a', 'b'], p);
        calls.push(`pusher ${r} ${p}`);
      },
      allStates: () => ['a', 'b'].map((name) => ({ name, paused: paused.has(name) })),
    };
    const transfers = {
      pause: (r?: string) => calls.push(`pause ${r}`),
      resume: (r?: string) => calls.push(`resume ${r}`),
    };
    new PauseState(dir, { pusher, transfers }).set('a', true);
    assert.deepEqual(calls, ['pusher a true', 'pause a']);
    assert.deepEqual(readPauseState(dir), { all: false, remotes: ['a'] });
    assert.equal(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).remotes[0], 'a');

    calls.length = 0;
    const next = new PauseState(dir, { pusher, transfers });
    next.applyToPusher(['a', 'b']);
    next.applyToTransfers();
    assert.deepEqual(calls, ['pusher a true', 'pause a']);

    rmSync(join(dir, 'state.json'));
    assert.equal(next.restore(), true);
    assert.deepEqual(readPauseState(dir), { all: false, remotes: ['a'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
