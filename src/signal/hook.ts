// Hook signaller: after each successful push, runs `autosync.notifyCommand` (a command line the
// user configured, run by /bin/sh like git runs its hooks) with what was pushed in its environment:
//   GIT_AUTOSYNC_REPO     the work tree
//   GIT_AUTOSYNC_REMOTES  space-separated remote names that took the push
//   GIT_AUTOSYNC_REFS     space-separated `ref=sha` pairs now on those remotes
// At most one runs at a time; pushes during a run collapse into one more run. A run is killed after
// HOOK_TIMEOUT_MS, so a hanging hook never stalls the agent; failures are logged, never retried.
import { spawn } from 'node:child_process';
import type { Logger } from '../log.js';

/** A notification that takes longer than this is hung; users' scripts normally take milliseconds. */
const HOOK_TIMEOUT_MS = 30_000;

export interface HookEvent {
  remotes: string[];
  refs: Record<string, string>;
}

export class HookSignaller {
  private running = false;
  private next: HookEvent | null = null;

  constructor(
    private readonly command: () => string | null,
    private readonly workTree: string,
    private readonly log: Logger,
  ) {}

  notify(ev: HookEvent): void {
    if (!this.command()) return;
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
    void this.run(ev);
  }

  private async run(ev: HookEvent): Promise<void> {
    const cmd = this.command();
    if (!cmd) return;
    this.running = true;
    try {
      const code = await new Promise<number | string>((resolve) => {
        const child = spawn('/bin/sh', ['-c', cmd], {
          cwd: this.workTree,
          stdio: 'ignore',
          env: {
            ...process.env,
            GIT_AUTOSYNC_REPO: this.workTree,
            GIT_AUTOSYNC_REMOTES: ev.remotes.join(' '),
            GIT_AUTOSYNC_REFS: Object.entries(ev.refs)
              .map(([r, s]) => `${r}=${s}`)
              .join(' '),
          },
        });
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve('timeout');
        }, HOOK_TIMEOUT_MS);
        child.on('error', (e) => {
          clearTimeout(timer);
          resolve(String(e));
        });
        child.on('exit', (c, sig) => {
          clearTimeout(timer);
          resolve(c ?? String(sig));
        });
      });
      if (code !== 0) this.log.warn({ result: code }, 'notifyCommand failed');
    } finally {
      this.running = false;
      const n = this.next;
      this.next = null;
      if (n) void this.run(n);
    }
  }
}
