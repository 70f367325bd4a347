// The one home of the paths under .git/autosync/ (git/state-paths.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STATE_FILES, stateDirOf, statePaths } from '../../../src/git/state-paths.js';

test('statePaths: every file of the agent under the state directory', () => {
  const p = statePaths('/r/.git/autosync');
  const rows: Array<[key: keyof typeof p, path: string]> = [
    ['dir', '/r/.git/autosync'],
    ['pid', '/r/.git/autosync/agent.pid'],
    ['log', '/r/.git/autosync/agent.log'],
    ['out', '/r/.git/autosync/agent.out'],
    ['sock', '/r/.git/autosync/control.sock'],
    ['key', '/r/.git/autosync/key'],
    ['state', '/r/.git/autosync/state.json'],
    ['transfers', '/r/.git/autosync/transfers.json'],
    ['xmppPassword', '/r/.git/autosync/xmpp-password'],
    ['displaced', '/r/.git/autosync/displaced'],
    ['merging', '/r/.git/autosync/merging'],
  ];
  for (const [key, path] of rows) assert.equal(p[key], path, key);
  // Every name has its row: a file added to STATE_FILES is added here too.
  assert.deepEqual(Object.keys(p).sort(), ['dir', ...Object.keys(STATE_FILES)].sort());
});

test('stateDirOf: the state directory of a git directory', () => {
  const rows: Array<[gitDir: string, stateDir: string]> = [
    ['/r/.git', '/r/.git/autosync'],
    ['/r/.git/', '/r/.git/autosync'],
    ['/srv/main/.git/worktrees/w', '/srv/main/.git/worktrees/w/autosync'],
  ];
  for (const [gitDir, stateDir] of rows) assert.equal(stateDirOf(gitDir), stateDir, gitDir);
});
