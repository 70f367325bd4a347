// Real agents as separate processes, for integration tests: start one on a clone, wait until its
// control socket answers, stop it cleanly or kill -9 it. Plus helpers to compare work trees.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, lstatSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/control/client.js';
import type { StatusJson } from '../../src/status/types.js';
import { GIT_ENV, git } from './repos.js';
import { waitFor } from './wait.js';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...GIT_ENV, ...opts.env },
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export class AgentProc {
  child: ChildProcess | null = null;
  stderr = '';

  /**
   * wrap: a command the agent is started through, its own command line appended (e.g. `unshare …
   * sh -c '…; exec "$@"'`, which must exec it so that child.pid is the agent's).
   */
  constructor(
    readonly repo: string,
    private readonly env: NodeJS.ProcessEnv = {},
    private readonly wrap: string[] = [],
  ) {}

  get sock(): string {
    return join(this.repo, '.git', 'autosync', 'control.sock');
  }

  async start(): Promise<void> {
    const cmd = [...this.wrap, process.execPath, CLI, '-C', this.repo, 'start', '--foreground'];
    const child = spawn(cmd[0]!, cmd.slice(1), {
      env: { ...GIT_ENV, GIT_AUTOSYNC_LOG_LEVEL: 'debug', ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (this.stderr.length < 200_000) this.stderr += d;
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`agent exited ${child.exitCode}: ${this.stderr.slice(-500)}`);
        return controlRequest(this.sock, { cmd: 'status' }, 2_000).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: 30_000, what: `agent on ${this.repo} to start` },
    );
  }

  status(): Promise<StatusJson> {
    return controlRequest<StatusJson>(this.sock, { cmd: 'status' }, 10_000);
  }

  /** Clean stop through the control socket; resolves when the process has exited. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    await controlRequest(this.sock, { cmd: 'stop' }, 10_000).catch(() => c.kill('SIGTERM'));
    await Promise.race([
      exited,
      waitFor(() => c.exitCode !== null || c.signalCode !== null, { timeoutMs: 60_000, what: 'agent exit' }),
    ]);
  }

  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}

/** Work-tree content as path -> content (files, symlinks), .git excluded. */
export function tree(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(repo, rel))) {
      if (name === '.git') continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(repo, r));
      if (st.isDirectory()) walk(r);
      else out.set(r, st.isSymbolicLink() ? `-> link` : readFileSync(join(repo, r), 'utf8'));
    }
  };
  walk('');
  return out;
}

export function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Waits until every repo has the same work tree and, when asked, the same HEAD. */
export async function converged(
  repos: string[],
  opts: { timeoutMs?: number; what?: string; heads?: boolean } = {},
): Promise<Map<string, string>> {
  return waitFor(
    (): Map<string, string> | null => {
      const t0 = tree(repos[0]!);
      if (!repos.every((r) => sameTree(tree(r), t0))) return null;
      if (opts.heads !== false) {
        const h = repos.map((r) => git(r, 'rev-parse', 'HEAD').trim());
        if (!h.every((x) => x === h[0])) return null;
      }
      return t0;
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, what: opts.what ?? 'trees to converge', intervalMs: 50 },
  );
}

export function commitCount(repo: string): number {
  return Number(git(repo, 'rev-list', '--count', 'HEAD').trim());
}

export function clean(repo: string): boolean {
  return git(repo, 'status', '--porcelain').trim() === '' && !existsSync(join(repo, '.git', 'MERGE_HEAD'));
}

/** Transfers an agent logged as done, not counting no-ops, as "direction remote", in log order. */
export function transfersDone(repo: string): string[] {
  let text = '';
  try {
    text = readFileSync(join(repo, '.git', 'autosync', 'agent.log'), 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"transfer done"')) continue;
    const o = JSON.parse(line) as { direction?: string; remote?: string; noop?: boolean };
    if (o.noop === false) out.push(`${o.direction} ${o.remote}`);
  }
  return out;
}

/** Whether an agent's log has a line with this message (for waiting on one thing it decided). */
export function logged(
  repo: string,
  msg: string,
  where: (o: Record<string, unknown>) => boolean = () => true,
): boolean {
  let text = '';
  try {
    text = readFileSync(join(repo, '.git', 'autosync', 'agent.log'), 'utf8');
  } catch {
    return false;
  }
  const tag = JSON.stringify(msg);
  return text
    .split('\n')
    .some((line) => line.includes(tag) && where(JSON.parse(line) as Record<string, unknown>));
}
