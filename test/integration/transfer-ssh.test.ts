// Remotes over ssh, as real users have them: two laptops sync through a bare repository on a server,
// reached with ssh and served on the far side by git (upload-pack/receive-pack) and git-annex-shell.
// The server is a private sshd on loopback (test/helpers/sshd.ts); the agents are real processes.
//
// How a peer learns of a change: the refs watch sees only local paths, and a remote over ssh is
// not one. Without XMPP, the clone that did not push hears nothing until something asks it to fetch:
// its own start-up, a push of its own, or a user's nudge. The tests nudge the way a user (or a cron
// job, or a notifyCommand hook on the server) would: `git autosync notify --remote cloud` to a
// running agent, and `git autosync sync` for one full pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_ENV, read, write } from '../helpers/repos.js';
import { AgentProc, cli, converged, transfersDone } from '../helpers/agents.js';
import { initBareAnnex, scratch } from '../helpers/annex.js';
import { startSshd, type SshServer } from '../helpers/sshd.js';
import { waitFor } from '../helpers/wait.js';

/** Each test has its own sshd; start-up is ~0.1 s, so sharing one would save nothing worth the coupling. */
async function sshd(d: ReturnType<typeof scratch>): Promise<SshServer> {
  const s = await startSshd();
  d.defer(() => s.stop());
  return s;
}

/** git (or `git annex …`) with the ssh settings, as the user's shell would run it. */
function gitSsh(s: SshServer, cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...GIT_ENV, ...s.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A clone of the cloud over ssh, with its remote named `cloud`, identity set, prepared by init. */
function cloneOverSsh(s: SshServer, root: string, name: string, cloudPath: string, annex: boolean): string {
  const dir = join(root, name);
  gitSsh(s, root, 'clone', '-q', '-o', 'cloud', s.url(cloudPath), dir);
  gitSsh(s, dir, 'config', 'user.name', 'Test');
  gitSsh(s, dir, 'config', 'user.email', 'test@example.invalid');
  if (annex) gitSsh(s, dir, 'annex', 'init', '-q', `laptop ${name}`);
  const r = cli(['-C', dir, 'init', '--yes'], { env: s.env });
  assert.equal(r.code, 0, `init ${name}: ${r.stderr}`);
  return dir;
}

/** A plain git bare "cloud" with one seed commit, and two clones A and B of it over ssh. */
function gitCloudOverSsh(root: string, s: SshServer): { C: string; A: string; B: string } {
  const C = join(root, 'cloud.git');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', C], { env: GIT_ENV });
  const seed = join(root, 'seed');
  execFileSync('git', ['init', '-q', '-b', 'main', seed], { env: GIT_ENV });
  write(seed, 'README.txt', 'seed\n');
  gitSsh(s, seed, 'add', '.');
  gitSsh(s, seed, 'commit', '-q', '-m', 'seed');
  gitSsh(s, seed, 'push', '-q', s.url(C), 'main');
  return { C, A: cloneOverSsh(s, root, 'A', C, false), B: cloneOverSsh(s, root, 'B', C, false) };
}

function startAgent(d: ReturnType<typeof scratch>, s: SshServer, repo: string): Promise<void> {
  const a = new AgentProc(repo, s.env);
  d.defer(() => a.stop().catch(() => a.kill9()));
  return a.start();
}

function agentOf(repo: string, s: SshServer): AgentProc {
  return new AgentProc(repo, s.env);
}

function ref(repo: string, name: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', '-q', '--verify', name], {
      cwd: repo,
      env: GIT_ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/**
 * The repository's HEAD once it contains `path` and the cloud's main is at it, else null. HEAD is read
 * once: reading it twice let a commit made between the reads pass for the one before (seen: `sync`
 * ran before B's commit had left B).
 */
function headOnCloud(repo: string, cloud: string, path: string): string | null {
  const head = ref(repo, 'HEAD');
  if (!head || ref(cloud, 'refs/heads/main') !== head || !ref(repo, `${head}:${path}`)) return null;
  return head;
}

/** Does the bare repository hold the content of `key`? Read from disk: no git-annex runs in it. */
function bareHasContent(bare: string, key: string): boolean {
  const walk = (p: string): boolean => {
    let entries;
    try {
      entries = readdirSync(p, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) {
      if (e.isDirectory() ? walk(join(p, e.name)) : e.name === key) return true;
    }
    return false;
  };
  return walk(join(bare, 'annex', 'objects'));
}

/**
 * Runs a test body; when it fails, prints what the agents and sshd logged (info and above, the
 * tail), so a failure that only shows under load can be read from the test output.
 */
async function withLogs(s: SshServer, repos: string[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    for (const repo of repos) {
      let text = '';
      try {
        text = readFileSync(join(repo, '.git', 'autosync', 'agent.log'), 'utf8');
      } catch {
        continue;
      }
      const lines = text.split('\n').filter((l) => /"level":([3-9]\d)/.test(l));
      console.error(`--- ${repo} agent.log (info+, last ${LOG_TAIL}):\n${lines.slice(-LOG_TAIL).join('\n')}`);
    }
    console.error(`--- sshd log (last ${LOG_TAIL}):\n${s.logText().split('\n').slice(-LOG_TAIL).join('\n')}`);
    throw e;
  }
}

/** Lines of each log printed on failure: enough for one test's story, short enough to read. */
const LOG_TAIL = 80;

test(
  'annex over ssh: content written on A reaches B through a bare cloud served by git-annex-shell',
  { timeout: 120_000 },
  async (t) => {
    const d = scratch(t, 'gas-ssh-');
    const s = await sshd(d);
    const repos: string[] = [];
    await withLogs(s, repos, async () => {
      // The server side, as its admin would prepare it: a bare annex repository.
      const C = initBareAnnex(join(d.path, 'cloud.git'), 'cloud');
      // Laptop A starts the history and publishes it over ssh; B clones it over ssh.
      const seed = join(d.path, 'A');
      execFileSync('git', ['init', '-q', '-b', 'main', seed], { env: GIT_ENV });
      gitSsh(s, seed, 'config', 'user.name', 'Test');
      gitSsh(s, seed, 'config', 'user.email', 'test@example.invalid');
      gitSsh(s, seed, 'annex', 'init', '-q', 'laptop A');
      gitSsh(s, seed, 'commit', '-q', '--allow-empty', '-m', 'seed');
      gitSsh(s, seed, 'remote', 'add', 'cloud', s.url(C));
      // The cloud's own git-annex branch (its annex init) is not ours: ours goes to synced/, as
      // `git annex sync` does.
      gitSsh(s, seed, 'push', '-q', 'cloud', 'main', 'git-annex:synced/git-annex');
      const A = seed;
      assert.equal(cli(['-C', A, 'init', '--yes'], { env: s.env }).code, 0);
      const B = cloneOverSsh(s, d.path, 'B', C, true);
      repos.push(A, B);
      assert.match(
        gitSsh(s, B, 'config', 'remote.cloud.url').trim(),
        /^ssh:\/\//,
        'B reaches the cloud over ssh',
      );

      await startAgent(d, s, A);
      await startAgent(d, s, B);
      // annex.largefiles is unset: every non-dot file is annexed. Random bytes, so a lossy copy shows.
      const bytes = randomBytes(300 * 1024);
      write(A, 'photos/p.bin', bytes);

      // A commits, pushes over ssh and uploads the content to the cloud (a bare repository runs no
      // agent, and with no preferred content it wants everything).
      await waitFor(() => headOnCloud(A, C, 'photos/p.bin'), {
        timeoutMs: 30_000,
        what: "A's commit of photos/p.bin on the cloud",
      });
      const key = gitSsh(s, A, 'annex', 'lookupkey', 'photos/p.bin').trim();
      assert.match(key, /^SHA256E-s307200--/, 'the file is annexed, not in git');
      await waitFor(() => bareHasContent(C, key), { timeoutMs: 30_000, what: 'the content on the cloud' });
      // A pushes its location log once the upload is logged: wait for that push, so B's one fetch
      // learns both the file and where its content is.
      await waitFor(
        async () => {
          const st = await agentOf(A, s).status();
          return (
            st.transfers.queued === 0 &&
            st.transfers.active.length === 0 &&
            ref(A, 'refs/heads/git-annex') === ref(C, 'refs/heads/synced/git-annex')
          );
        },
        { timeoutMs: 30_000, what: 'A idle, with its git-annex branch on the cloud' },
      );

      // B heard nothing (the cloud is not a local path): the user's nudge.
      const r = cli(['-C', B, 'notify', '--remote', 'cloud'], { env: s.env });
      assert.equal(r.code, 0, r.stderr);
      await waitFor(
        () => read(B, 'photos/p.bin') !== null && readFileSync(join(B, 'photos/p.bin')).equals(bytes),
        {
          timeoutMs: 60_000,
          what: "the exact bytes in B's work tree",
        },
      );
      // Git converges too: same HEAD, same tree, and B did not commit the downloaded file as an edit.
      await converged([A, B], { what: 'A and B to converge', timeoutMs: 30_000 });
      assert.deepEqual(transfersDone(A), ['upload cloud'], 'A uploaded once, to the cloud');
      await waitFor(() => transfersDone(B).length > 0, { what: "B's download in its log" });
      assert.deepEqual(transfersDone(B), ['download cloud'], 'B downloaded once, from the cloud');
      for (const repo of [A, B]) {
        const st = await agentOf(repo, s).status();
        assert.equal(st.transfers.failed, 0, `no failed transfers on ${repo}`);
        assert.ok(
          st.remotes.every((x) => x.error === null),
          `no remote errors on ${repo}: ${JSON.stringify(st.remotes)}`,
        );
      }
      assert.ok(bareHasContent(C, key), 'the cloud keeps its copy (it wants everything)');
    });
  },
);

test(
  'git over ssh: a change on A reaches B through a bare cloud after a notify, and back with sync',
  { timeout: 120_000 },
  async (t) => {
    const d = scratch(t, 'gas-ssh-');
    const s = await sshd(d);
    const repos: string[] = [];
    await withLogs(s, repos, async () => {
      const { C, A, B } = gitCloudOverSsh(d.path, s);
      repos.push(A, B);

      await startAgent(d, s, A);
      await startAgent(d, s, B);
      write(A, 'notes/from-a.txt', 'written on A\n');
      await waitFor(() => headOnCloud(A, C, 'notes/from-a.txt'), {
        timeoutMs: 30_000,
        what: "A's commit on the cloud",
      });
      // A running agent is told to fetch (what a hook or a cron job would run).
      const n = cli(['-C', B, 'notify', '--remote', 'cloud'], { env: s.env });
      assert.equal(n.code, 0, n.stderr);
      await converged([A, B], { what: "B to take A's change", timeoutMs: 30_000 });
      assert.equal(read(B, 'notes/from-a.txt'), 'written on A\n');

      // And back: B's change goes up on its own (a push after the commit); A is brought up to date by
      // one `sync` pass through its running agent, which exits 0 only when every remote succeeded.
      write(B, 'notes/from-b.txt', 'written on B\n');
      await waitFor(() => headOnCloud(B, C, 'notes/from-b.txt'), {
        timeoutMs: 30_000,
        what: "B's commit on the cloud",
      });
      const sy = cli(['-C', A, 'sync'], { env: s.env });
      assert.equal(sy.code, 0, sy.stderr);
      const tree = await converged([A, B], { what: "A to take B's change", timeoutMs: 30_000 });
      assert.equal(tree.get('notes/from-b.txt'), 'written on B\n');
      assert.equal(tree.get('notes/from-a.txt'), 'written on A\n');
      assert.equal(ref(C, 'refs/heads/main'), ref(A, 'HEAD'), 'the cloud has the converged head');
    });
  },
);

test(
  "git over ssh without XMPP: the last-resort poll brings A's change to B with no nudge",
  { timeout: 120_000 },
  async (t) => {
    const d = scratch(t, 'gas-ssh-');
    const s = await sshd(d);
    const repos: string[] = [];
    await withLogs(s, repos, async () => {
      const { A, B } = gitCloudOverSsh(d.path, s);
      repos.push(A, B);
      // One second instead of five minutes; B never changes anything, so only the poll can help.
      gitSsh(s, B, 'config', 'autosync.pollInterval', '1');
      await startAgent(d, s, A);
      await startAgent(d, s, B);
      write(A, 'notes/from-a.txt', 'written on A\n');
      await converged([A, B], { what: "B to poll the cloud and take A's change", timeoutMs: 30_000 });
      assert.equal(read(B, 'notes/from-a.txt'), 'written on A\n');
    });
  },
);
