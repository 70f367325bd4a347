// The human `status` and `sync` lines: every reason the JSON carries is on a line of its own, with
// what to do; a status with no agent never claims a remote is "ok".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusJson } from '../../../src/status/types.js';
import { mapLine, reasons, renderStatus, syncSummary } from '../../../src/cli/render.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function base(over: Partial<StatusJson> = {}): StatusJson {
  return {
    running: true,
    pid: 42,
    repository: '/r',
    mode: 'git',
    branch: 'main',
    head: 'a'.repeat(40),
    pendingChanges: 0,
    pendingCounted: 'all',
    scanning: false,
    remotes: [
      {
        name: 'origin',
        lastPushOk: true,
        lastPushAt: '2026-01-01T11:59:57Z',
        paused: false,
        error: null,
      },
    ],
    signal: { transport: 'refs-watch', state: 'online', peers: [], rejected: 0, error: null },
    transfers: { queued: 0, active: [], failed: 0 },
    services: [],
    stuck: [],
    errors: { commit: null, merge: null },
    checkedOut: 'main',
    warnings: [],
    node: 'n',
    host: 'h',
    ...over,
  };
}

const NO_PASSWORD =
  'alice@example.org has no XMPP password; set GIT_AUTOSYNC_XMPP_PASSWORD, or autosync.xmpp.passwordFile (mode 0600), or store it in the OS keyring';
const FILE_0644 =
  '/home/a/pw (autosync.xmpp.passwordFile) is readable by group or others (mode 0644); run: chmod 600 /home/a/pw';

test('reasons: one line per reason the JSON carries, each saying what to do', () => {
  const cases: Array<{ name: string; st: StatusJson; lines: RegExp[] }> = [
    { name: 'all well', st: base(), lines: [] },
    {
      name: 'no XMPP password',
      st: base({
        signal: { ...base().signal, transport: 'xmpp-room', state: 'offline', error: NO_PASSWORD },
      }),
      lines: [/^problem {5}signal: alice@example\.org has no XMPP password; set GIT_AUTOSYNC_XMPP_PASSWORD/],
    },
    {
      name: 'signals rejected because the keys differ',
      st: base({
        signal: {
          ...base().signal,
          transport: 'xmpp-room',
          rejected: 2,
          hint: 'signals from laptop-1 were rejected: they name another repository, so the repository keys differ; copy .git/autosync/key from one clone to the other and restart both agents',
        },
      }),
      lines: [/^problem {5}signal: signals from laptop-1 were rejected: .*copy \.git\/autosync\/key/],
    },
    {
      name: 'a large file went into git',
      st: base({
        warnings: [
          {
            path: 'big.iso',
            size: 300_000_000,
            message: 'big.iso (286 MiB) went into git itself, not git-annex: run git annex init',
          },
        ],
      }),
      lines: [/^warning {5}big\.iso \(286 MiB\) went into git itself/],
    },
    {
      name: 'password file 0644',
      st: base({ signal: { ...base().signal, state: 'offline', error: FILE_0644 } }),
      lines: [/^problem {5}signal: .*mode 0644\); run: chmod 600 \/home\/a\/pw$/],
    },
    {
      name: 'wrong password',
      st: base({
        signal: {
          ...base().signal,
          state: 'offline',
          error: 'authentication failed for alice@example.org: not-authorized',
        },
      }),
      lines: [/^problem {5}signal: authentication failed .*; check the account and its password/],
    },
    {
      name: 'on another branch',
      st: base({
        checkedOut: 'feature',
        errors: {
          commit: 'HEAD is on branch feature, not main; syncing waits until you switch back',
          merge: null,
        },
      }),
      // The commit error says the same thing: shown once, with the command.
      lines: [/^problem {5}HEAD is on branch feature, not main; syncing waits .*: git switch main$/],
    },
    {
      name: 'detached, agent running',
      st: base({ checkedOut: null }),
      lines: [
        /^problem {5}HEAD is detached, not main; syncing waits until you switch back: git switch main$/,
      ],
    },
    {
      name: 'detached, no agent',
      st: base({ running: false, branch: 'HEAD', checkedOut: null }),
      lines: [/^problem {5}HEAD is detached; 'git autosync start' and 'sync' need a branch/],
    },
    {
      name: 'commit and merge errors',
      st: base({
        errors: {
          commit: 'a rebase is in progress; syncing waits until you finish it',
          merge: 'git merge-tree failed',
        },
      }),
      lines: [
        /^problem {5}commit: a rebase is in progress; syncing waits until you finish it$/,
        /^problem {5}merge: git merge-tree failed; the agent retries by itself$/,
      ],
    },
    {
      name: 'a crashed service',
      st: base({ services: [{ name: 'watcher', state: 'crashed', restarts: 2, lastError: 'ENOSPC' }] }),
      lines: [/^problem {5}service watcher crashed \(2 restarts\): ENOSPC; it restarts by itself/],
    },
    {
      name: 'stuck paths',
      st: base({ stuck: [{ path: 'sub/x', error: "fatal: Pathspec 'sub/x' is in submodule 'sub'" }] }),
      lines: [/^stuck {7}1 path git refuses to commit; fix or remove them/, /^ {2}sub\/x: fatal: Pathspec/],
    },
  ];
  for (const c of cases) {
    const got = reasons(c.st);
    assert.equal(got.length, c.lines.length, `${c.name}: ${JSON.stringify(got)}`);
    c.lines.forEach((re, i) => assert.match(got[i]!, re, c.name));
    // Each reason is on the human status too.
    const text = renderStatus(c.st, 80, NOW);
    for (const l of got) assert.ok(text.split('\n').includes(l), `${c.name}: in renderStatus`);
  }
});

test('reasons: many stuck paths are cut to ten lines and a count', () => {
  const stuck = Array.from({ length: 25 }, (_, i) => ({ path: `p${i}`, error: 'refused' }));
  const got = reasons(base({ stuck }));
  assert.equal(got.length, 1 + 10 + 1);
  assert.match(got[11]!, /… and 15 more \('git autosync status --json' lists them\)/);
});

test('remote lines: ok, failing, paused; unknown with no agent; commits not pushed when known', () => {
  const remote = (r: Partial<StatusJson['remotes'][number]> & { ahead?: number | null }, running = true) =>
    renderStatus(base({ running, remotes: [{ ...base().remotes[0]!, ...r }] }), 80, NOW)
      .split('\n')
      .find((l) => l.startsWith('remote'))!;
  assert.equal(remote({}), 'remote      origin       ok; last push 3s ago');
  assert.equal(remote({ ahead: 0 }), 'remote      origin       ok; last push 3s ago');
  assert.equal(remote({ ahead: null }), 'remote      origin       ok; last push 3s ago');
  assert.equal(
    remote({ ahead: 2 }),
    'remote      origin       ok; last push 3s ago; 2 commits not pushed there yet',
  );
  assert.equal(
    remote({ ahead: 1 }),
    'remote      origin       ok; last push 3s ago; 1 commit not pushed there yet',
  );
  assert.match(
    remote({ error: 'connection refused', lastPushOk: false }),
    /ERROR: connection refused \(retrying\)/,
  );
  assert.match(remote({ paused: true }), /paused \('git autosync resume' resumes it\)/);
  assert.equal(remote({ lastPushOk: null, lastPushAt: null }), 'remote      origin       no push yet');
  // No agent: nobody knows how the remote is doing.
  const off = { lastPushOk: null, lastPushAt: null };
  assert.equal(remote(off, false), 'remote      origin       unknown (no agent running)');
  assert.doesNotMatch(remote(off, false), /\bok\b/);
  assert.equal(
    remote({ ...off, paused: true }, false),
    'remote      origin       paused; unknown (no agent running)',
  );
});

test('renderStatus tolerates an older agent without the newer fields', () => {
  const old = base() as Partial<StatusJson>;
  delete old.services;
  delete old.stuck;
  delete old.errors;
  delete old.checkedOut;
  const text = renderStatus(old as StatusJson, 80, NOW);
  assert.match(text, /^repository {2}\/r \(git, branch main\)$/m);
  assert.doesNotMatch(text, /problem|stuck/);
});

test('syncSummary says what sync did', () => {
  const cases: Array<[number | null, Record<string, string | null>, string]> = [
    [0, {}, 'git-autosync: nothing to commit; no remotes to sync with'],
    [3, {}, 'git-autosync: committed 3 files; no remotes to sync with'],
    [1, { origin: null }, 'git-autosync: committed 1 file; synced with origin'],
    [0, { origin: null, backup: null }, 'git-autosync: nothing to commit; synced with origin, backup'],
    [0, { origin: null, gone: 'fatal: …' }, 'git-autosync: nothing to commit; synced with origin'],
    [2, { gone: 'fatal: …' }, 'git-autosync: committed 2 files; no remote synced'],
    [null, { origin: null }, 'git-autosync: committed what was pending; synced with origin'],
  ];
  for (const [n, outcome, want] of cases) assert.equal(syncSummary(n, outcome), want);
  assert.equal(
    syncSummary(0, {}, ['gone']),
    'git-autosync: nothing to commit; no remote synced; paused, not synced: gone',
  );
  assert.equal(
    syncSummary(1, { origin: null }, ['gone']),
    'git-autosync: committed 1 file; synced with origin; paused, not synced: gone',
  );
});

test('status: the map line counts the map and names each peer report, its age and a stale flag', () => {
  assert.equal(
    mapLine({
      nodes: 6,
      edges: 9,
      stale: 2,
      peers: [
        { node: 'laptop-b1', repo: 'r', edges: 2, ageSeconds: 34, stale: false },
        { node: 'laptop-b2', repo: 's', edges: 1, ageSeconds: 1000, stale: true },
      ],
    }),
    'map         6 repositories, 9 links, 2 stale; peers told: laptop-b1 (2 links, 34 s ago), laptop-b2 (1 link, 1000 s ago, stale)',
  );
  assert.match(mapLine({ nodes: 1, edges: 0, stale: 0, peers: [] }), /peers told: none yet$/);
});
