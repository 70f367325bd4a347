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

export async function makePeers(opts: { annex: boolean; label: string }): Promise<Topology> {
  const safe = opts.label.replace(/[^a-z0-9-]+/gi, '-');
  const root = mkdtempSync(join(tmpdir(), `gas-bench-${safe}-`));
  const home = join(root, 'home');
  mkdirSync(join(home, '.config'), { recursive: true });
  writeFileSync(join(home, '.gitconfig'), GLOBAL_GITCONFIG);
  const env = sandboxEnv(home);
  const a = join(root, 'A');
  const b = join(root, 'B');
  const topo: Topology = { root, home, env, a, b, annex: opts.annex };
  existing.add(topo);
  try {
    await git(root, env, 'init', '-q', '-b', 'main', a);
    writeFileSync(join(a, 'README.md'), '# bench repository\n');
    await git(a, env, 'add', 'README.md');
    await git(a, env, 'commit', '-q', '-m', 'initial commit');
    if (opts.annex) await exec('git', ['annex', 'init', '-q', 'A'], { cwd: a, env });
    await git(root, env, 'clone', '-q', a, b);
    await git(b, env, 'remote', 'rename', 'origin', 'a');
    if (opts.annex) await exec('git', ['annex', 'init', '-q', 'B'], { cwd: b, env });
    await git(a, env, 'remote', 'add', 'b', b);
    await git(a, env, 'fetch', '-q', 'b');
    if (opts.annex) {
      for (const clone of [a, b]) {
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
  // git-annex makes its object dirs read-only, which stops a non-root rm; retries cover late writers.
  try {
    execFileSync('chmod', ['-R', 'u+w', topo.root], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    /* rm below says what is left */
  }
  rmSync(topo.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
