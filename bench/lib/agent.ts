// One long-running agent (a git-autosync or a git-annex assistant) under the harness's control.
//
// Each agent gets its own process group, so whatever it spawns can be killed with it; stopping is
// SIGTERM to the agent, a bounded wait for it to exit, then SIGKILL to the whole group. Every agent
// ever started is in a registry that an exit/signal handler empties, so an error or a Ctrl-C in the
// harness never leaves an agent running behind it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** How long an agent may take to shut down cleanly (commit pending work, finish a push). */
export const STOP_TIMEOUT_MS = 15_000;

const live = new Set<AgentProcess>();

export class AgentProcess {
  readonly pid: number;
  readonly logPath: string;
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  private stopping = false;

  constructor(
    readonly label: string,
    file: string,
    args: readonly string[],
    opts: { cwd: string; env: NodeJS.ProcessEnv; logPath: string },
  ) {
    // The log goes to a file, not a pipe: a pipe nobody drains would eventually block the agent.
    const fd = openSync(opts.logPath, 'a');
    this.logPath = opts.logPath;
    try {
      this.child = spawn(file, args as string[], {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    if (this.child.pid === undefined) throw new Error(`${label}: could not start ${file}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      this.child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
    live.add(this);
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  /** Throws (with the end of its log) if the agent died while we still needed it. */
  assertRunning(): void {
    if (this.exitInfo && !this.stopping) {
      const { code, signal } = this.exitInfo;
      throw new Error(
        `${this.label} exited unexpectedly (code ${code}, signal ${signal}): ${this.logTail()}`,
      );
    }
  }

  logTail(lines = 5): string {
    try {
      const text = readFileSync(this.logPath, 'utf8').trim();
      return text.split('\n').slice(-lines).join(' | ').slice(-800) || '(empty log)';
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, wait up to timeoutMs, then SIGKILL the group. Returns whether it stopped cleanly. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<boolean> {
    this.stopping = true;
    let clean = true;
    if (this.running) {
      signal(this.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      clean = !timedOut;
    }
    // Children that outlived the agent (a git it was waiting on) go with the group.
    this.killGroup();
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
    live.delete(this);
    return clean;
  }

  /** Synchronous, for exit handlers. */
  killGroup(): void {
    signal(-this.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* ESRCH: already gone */
  }
}

/** Kills every agent still registered; safe to call from an 'exit' handler (synchronous). */
export function killAllAgents(): void {
  for (const a of live) {
    a.killGroup();
    live.delete(a);
  }
}

let installed = false;

/**
 * Installs the last-resort cleanup: on normal exit, on an uncaught error, and on SIGINT/SIGTERM.
 * `more` runs after the agents are dead (e.g. removing temp dirs) and must be synchronous.
 */
export function installCleanupHandlers(more: () => void = () => {}): void {
  if (installed) return;
  installed = true;
  const all = () => {
    killAllAgents();
    try {
      more();
    } catch {
      /* best effort at exit */
    }
  };
  process.on('exit', all);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      all();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * Starts A, then B; if B cannot be started, A is stopped again, so a failed start never leaves a
 * lone agent running (both systems start their pair this way).
 */
export async function startPair(
  spawnOne: (name: 'A' | 'B' | 'C') => AgentProcess,
  withC = false,
): Promise<{ a: AgentProcess; b: AgentProcess; c?: AgentProcess }> {
  const started: AgentProcess[] = [];
  try {
    for (const name of withC ? (['A', 'B', 'C'] as const) : (['A', 'B'] as const))
      started.push(spawnOne(name));
  } catch (e) {
    await Promise.all(started.map((x) => x.stop()));
    throw e;
  }
  const [a, b, c] = started as [AgentProcess, AgentProcess, AgentProcess | undefined];
  return c ? { a, b, c } : { a, b };
}
