// The topology every scenario runs on: two non-bare clones A and B in a fresh temp dir, direct peers
// (A has remote `b` -> B's path, B has remote `a` -> A's path), and a private HOME with a git identity
// so neither system reads the user's ~/.gitconfig, ~/.config/git-annex or a system gitconfig.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { exec, git } from './exec.js';

export interface Topology {
  root: string;
  home: string;
  env: NodeJS.ProcessEnv;
  a: string;
  b: string;
  annex: boolean;
  /** Set in the 'chain' layout: a third clone that knows only B (A -> B -> C, B relays). */
  c: string | null;
  /** 'peers': A and B are each other's remotes. 'cloud': both know only a bare cloud.git beside them.
   * 'chain': peers, plus C, a clone of B that is B's remote and knows only B. */
  layout: Layout;
}

export type Layout = 'peers' | 'cloud' | 'chain';

/** Every clone of the topology with its name: A, B, and C in the chain layout. */
export function clonesOf(topo: Topology): { name: 'A' | 'B' | 'C'; path: string }[] {
  const out: { name: 'A' | 'B' | 'C'; path: string }[] = [
    { name: 'A', path: topo.a },
    { name: 'B', path: topo.b },
  ];
  if (topo.c) out.push({ name: 'C', path: topo.c });
  return out;
}

/** What may pass from our environment into the sandbox: how to find programs, the temp dir, and the
 * agents' log level (trace logs every git call with its duration, for profiling a run). */
const PASS_THROUGH = ['PATH', 'TMPDIR', 'TERM', 'GIT_AUTOSYNC_LOG_LEVEL'];

export function sandboxEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of PASS_THROUGH) if (process.env[k] !== undefined) env[k] = process.env[k];
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
    LANG: 'C',
    // Neither system may ever stop to ask (there is no TTY to answer).
    GIT_TERMINAL_PROMPT: '0',
    GIT_MERGE_AUTOEDIT: 'no',
  };
}

const GLOBAL_GITCONFIG = `[user]
\tname = Bench
\temail = bench@example.invalid
[init]
\tdefaultBranch = main
`;

/** Checking out the scale scenario's 100,000 files takes ~10 s on a quiet 2-core machine; 5 min
 * covers a busy one. */
const CLONE_TIMEOUT_MS = 300_000;

export async function makePeers(opts: {
  annex: boolean;
  label: string;
  layout?: Layout;
  /** A repository to clone A from (the large repository of the scale scenario) instead of a fresh
   * one-commit repository; peers layout only. */
  seed?: string;
}): Promise<Topology> {
  const layout = opts.layout ?? 'peers';
  const safe = opts.label.replace(/[^a-z0-9-]+/gi, '-');
  const root = mkdtempSync(join(tmpdir(), `gas-bench-${safe}-`));
  const home = join(root, 'home');
  mkdirSync(join(home, '.config'), { recursive: true });
  writeFileSync(join(home, '.gitconfig'), GLOBAL_GITCONFIG);
  const env = sandboxEnv(home);
  const a = join(root, 'A');
  const b = join(root, 'B');
  const c = layout === 'chain' ? join(root, 'C') : null;
  const topo: Topology = { root, home, env, a, b, c, annex: opts.annex, layout };
  existing.add(topo);
  try {
    if (opts.seed) {
      if (layout !== 'peers') throw new Error('a seeded topology has the peers layout');
      await exec('git', ['clone', '-q', opts.seed, a], { cwd: root, env, timeoutMs: CLONE_TIMEOUT_MS });
      await git(a, env, 'remote', 'remove', 'origin');
    } else {
      await git(root, env, 'init', '-q', '-b', 'main', a);
      writeFileSync(join(a, 'README.md'), '# bench repository\n');
      await git(a, env, 'add', 'README.md');
      await git(a, env, 'commit', '-q', '-m', 'initial commit');
    }
    if (opts.annex)
      await exec('git', ['annex', 'init', '-q', 'A'], { cwd: a, env, timeoutMs: CLONE_TIMEOUT_MS });
    if (layout === 'cloud') {
      // A bare repository both clones push to and fetch from (a shared folder or a server); the
      // agents learn of each other's pushes by watching its refs (autosync.watchRemotes).
      const cloud = join(root, 'cloud.git');
      await git(root, env, 'init', '-q', '--bare', '-b', 'main', cloud);
      await git(a, env, 'remote', 'add', 'origin', cloud);
      await git(a, env, 'push', '-q', 'origin', 'main');
      await git(a, env, 'branch', '-q', '--set-upstream-to=origin/main', 'main');
      await git(root, env, 'clone', '-q', cloud, b);
      if (opts.annex)
        await exec('git', ['annex', 'init', '-q', 'B'], { cwd: b, env, timeoutMs: CLONE_TIMEOUT_MS });
    } else {
      await exec('git', ['clone', '-q', a, b], { cwd: root, env, timeoutMs: CLONE_TIMEOUT_MS });
      await git(b, env, 'remote', 'rename', 'origin', 'a');
      if (opts.annex)
        await exec('git', ['annex', 'init', '-q', 'B'], { cwd: b, env, timeoutMs: CLONE_TIMEOUT_MS });
      await git(a, env, 'remote', 'add', 'b', b);
      await git(a, env, 'fetch', '-q', 'b');
      if (c) {
        await git(root, env, 'clone', '-q', b, c);
        await git(c, env, 'remote', 'rename', 'origin', 'b');
        if (opts.annex)
          await exec('git', ['annex', 'init', '-q', 'C'], { cwd: c, env, timeoutMs: CLONE_TIMEOUT_MS });
        await git(b, env, 'remote', 'add', 'c', c);
        await git(b, env, 'fetch', '-q', 'c');
      }
    }
    if (opts.annex) {
      for (const clone of c ? [a, b, c] : [a, b]) {
        // Small files go into git itself (the commit carries the content), as they do for
        // git-autosync in a plain repository; otherwise we would time annex transfers instead.
        await git(clone, env, 'config', 'annex.largefiles', 'nothing');
      }
    }
    return topo;
  } catch (e) {
    destroyTopology(topo);
    throw e;
  }
}

/** Every topology not yet destroyed, so an aborted run can still remove its temp dirs. */
const existing = new Set<Topology>();

/** Leaves the topology on disk for debugging, also when the process exits. */
export function keepTopology(topo: Topology): void {
  existing.delete(topo);
}

export function destroyAllTopologies(): void {
  for (const t of existing) destroyTopology(t);
}

export function destroyTopology(topo: Topology): void {
  existing.delete(topo);
  // git-annex makes its object dirs read-only, which stops a non-root rm; only annex clones need it.
  if (topo.annex) {
    try {
      execFileSync('chmod', ['-R', 'u+w', topo.root], { stdio: 'ignore', timeout: RM_TIMEOUT_MS });
    } catch {
      /* rm below says what is left */
    }
  }
  // rm(1) first: Node's recursive rmSync walks in JS and took minutes for the scale scenario's
  // 2 x 100,000 files on a busy machine. rmSync after it removes whatever rm left (and retries late writers).
  try {
    execFileSync('rm', ['-rf', topo.root], { stdio: 'ignore', timeout: RM_TIMEOUT_MS });
  } catch {
    /* rmSync below */
  }
  rmSync(topo.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

/** Removing a large topology's temp dir; far more than 2 x 100,000 small files need. */
const RM_TIMEOUT_MS = 300_000;

export function pathOf(topo: Topology, name: 'A' | 'B' | 'C'): string {
  if (name === 'A') return topo.a;
  if (name === 'B') return topo.b;
  if (!topo.c) throw new Error('this topology has no clone C');
  return topo.c;
}
