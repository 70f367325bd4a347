// Hook signaller, a service: after each successful push, runs `autosync.notifyCommand` (a command
// line the user configured, run by /bin/sh like git runs its hooks) with what was pushed in its
// environment:
//   GIT_AUTOSYNC_REPO     the work tree
//   GIT_AUTOSYNC_REMOTES  space-separated remote names that took the push
//   GIT_AUTOSYNC_REFS     space-separated `ref=sha` pairs now on those remotes
// Waits on: notify() calls from the agent after a push. Produces: at most one hook run at a time;
// pushes during a run collapse into one more run. Failures are logged, never retried.
// A hook runs in a process group of its own (detached), so everything it started can be ended with
// it. The per-run limit is spawn's own `timeout` (it sends SIGTERM to /bin/sh); at that timeout and
// at the service's stop the whole group then gets SIGTERM, and SIGKILL after a grace period.
// Killing only /bin/sh would leave its children (a `sleep`, a stuck `curl`) running under PID 1.
// Processes a hook leaves behind after it exited on its own (`cmd &`) are its business.
import { spawn } from 'node:child_process';
import type { Logger } from '../core/log.js';
import type { Service } from '../core/service.js';
import { childEnv } from '../git/runner.js';

/** A notification that takes longer than this is hung; users' scripts normally take milliseconds. */
export const HOOK_TIMEOUT_MS = 30_000;
/** Time a hook's processes get between SIGTERM and SIGKILL: enough to remove a temp file. */
export const HOOK_KILL_GRACE_MS = 2_000;
/** At the agent's stop, a running hook (e.g. the final push's) gets this long to finish. */
export const HOOK_STOP_WAIT_MS = 2_000;
/** After SIGKILL the kernel ends the group at once; this bounds the wait for it to be reaped. */
const KILL_REAP_MS = 1_000;
/** How often the group is looked at while it is being killed (only then: a bounded few seconds). */
const GROUP_POLL_MS = 20;
/**
 * For tests only: overrides HOOK_TIMEOUT_MS (milliseconds), so that a test of a hung hook does not
 * wait 30 s. Not part of the interface; users have no reason to set it.
 */
export const HOOK_TIMEOUT_TEST_ENV = 'GIT_AUTOSYNC_TEST_HOOK_TIMEOUT_MS';

export interface HookEvent {
  remotes: string[];
  refs: Record<string, string>;
}

export interface HookDeps {
  /** The notifyCommand now (it may change while the agent runs); null: none configured. */
  command: () => string | null;
  workTree: string;
  log: Logger;
  /** The per-run limit (default hookTimeoutMs()) and the SIGTERM-to-SIGKILL grace. */
  timeoutMs?: number;
  graceMs?: number;
}

/** What ended a run: its exit code, its signal's name, 'timeout' or 'stopped with the agent'. */
type RunEnd = number | string;

/** The signal spawn's `timeout` sends to /bin/sh; the group gets the same, then SIGKILL. */
const TIMEOUT_SIGNAL: NodeJS.Signals = 'SIGTERM';

/** The hook timeout: the test override when it is a positive number of ms, else HOOK_TIMEOUT_MS. */
export function hookTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env[HOOK_TIMEOUT_TEST_ENV]);
  return Number.isInteger(n) && n > 0 ? n : HOOK_TIMEOUT_MS;
}

/** Whether any process is left in the process group (signal 0 checks without sending). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // the group is empty already
  }
}

/** Polls until the group is empty or ms have passed; the poll runs only while a hook is killed. */
async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, GROUP_POLL_MS));
  }
  return true;
}

export class HookSignaller implements Service {
  readonly name = 'hook';
  private running: Promise<void> | null = null;
  private next: HookEvent | null = null;
  /** Ends the running hook's wait at once (stop). */
  private abort: (() => void) | null = null;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly graceMs: number;

  constructor(private readonly d: HookDeps) {
    this.timeoutMs = d.timeoutMs ?? hookTimeoutMs();
    this.graceMs = d.graceMs ?? HOOK_KILL_GRACE_MS;
  }

  /** Runs are accepted from construction on; start() only reopens a stopped signaller. */
  start(): Promise<void> {
    this.closed = false;
    return Promise.resolve();
  }

  notify(ev: HookEvent): void {
    if (this.closed || !this.d.command()) return;
    if (this.running) {
      // Collapse: keep the union of what was pushed while the previous run was going.
      this.next = this.next
        ? {
            remotes: [...new Set([...this.next.remotes, ...ev.remotes])],
            refs: { ...this.next.refs, ...ev.refs },
          }
        : ev;
      return;
    }
    this.running = this.run(ev);
  }

  /**
   * The agent stops: no new runs; a running hook gets waitMs to finish, then its whole process
   * group is killed. Resolves when no process of the hook is left (or SIGKILL was sent and the
   * kernel had a moment to act on it).
   */
  async stop(waitMs = HOOK_STOP_WAIT_MS): Promise<void> {
    this.closed = true;
    this.next = null;
    const r = this.running;
    if (!r) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([r, new Promise<void>((res) => (timer = setTimeout(res, waitMs)))]);
    clearTimeout(timer);
    this.abort?.();
    await r;
  }

  private async run(ev: HookEvent): Promise<void> {
    const cmd = this.d.command();
    try {
      if (cmd) await this.runOnce(cmd, ev);
    } finally {
      const n = this.closed ? null : this.next;
      this.next = null;
      this.running = n ? this.run(n) : null;
    }
  }

  private async runOnce(cmd: string, ev: HookEvent): Promise<void> {
    const child = spawn('/bin/sh', ['-c', cmd], {
      cwd: this.d.workTree,
      stdio: 'ignore',
      // Its own process group (pgid = its pid), so that the group can be killed as one.
      detached: true,
      // The per-run limit: spawn sends TIMEOUT_SIGNAL to /bin/sh (child.kill, so `killed` is set);
      // the rest of the group is ended below.
      timeout: this.timeoutMs,
      killSignal: TIMEOUT_SIGNAL,
      env: childEnv(
        {
          GIT_AUTOSYNC_REPO: this.d.workTree,
          GIT_AUTOSYNC_REMOTES: ev.remotes.join(' '),
          GIT_AUTOSYNC_REFS: Object.entries(ev.refs)
            .map(([r, s]) => `${r}=${s}`)
            .join(' '),
        },
        'user',
      ),
    });
    const pgid = child.pid ?? null;
    const result = await new Promise<RunEnd>((resolve) => {
      this.abort = () => resolve('stopped with the agent');
      child.on('error', (e) => resolve(String(e)));
      child.on('exit', (c, sig) => {
        // Only spawn's timeout kills the child through child.kill (stop signals the group).
        if (child.killed && sig === TIMEOUT_SIGNAL) resolve('timeout');
        else resolve(c ?? String(sig));
      });
    });
    this.abort = null;
    if (typeof result === 'string' && pgid !== null && groupAlive(pgid)) {
      // Timed out or stopped: end the whole group, politely first.
      signalGroup(pgid, 'SIGTERM');
      if (!(await groupGone(pgid, this.graceMs))) {
        signalGroup(pgid, 'SIGKILL');
        await groupGone(pgid, KILL_REAP_MS);
      }
    }
    if (result === 'timeout')
      this.d.log.warn({ timeoutMs: this.timeoutMs }, 'notifyCommand timed out; its processes were killed');
    else if (result !== 0) this.d.log.warn({ result }, 'notifyCommand failed');
  }
}
