// One long-lived git-annex batch process (a "lane"): `git-annex copy --to=R --batch-keys` or
// `git-annex get --from=R --batch-keys`, with --json --json-progress. Keys go in on stdin. Without
// -J, git-annex handles them one after another and answers in input order, so answers are matched to
// keys first-in first-out, which is the only way to match a bare blank line ("nothing to do"; it
// names no key). That is why we never use -J here: with it, answers come out of order. Parallelism
// comes from running several lanes; a lane may be fed a few keys ahead (pipelining) so that git-annex
// never idles between small files while we react to the previous answer.
//
// git-annex commits location changes to the git-annex branch only when the process exits, so a lane
// is closed as soon as it has no more work (see workers.ts), and the agent then pushes.
//
// The process is spawned directly as `git-annex` (not `git annex`), in its own process group: `git
// annex` is a wrapper that would survive a kill of the wrapper, and rsync/ssh children of git-annex
// must die with it on cancel.
import { killChild } from '../core/kill.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isValidBwLimit, isValidKey, isValidRemoteName } from '../annex/keys.js';
import type { Direction } from './queue.js';
import { childEnv } from '../git/runner.js';
import { isAnnexTransferBusy } from '../git/errors.js';

/** git-annex prints progress only now and then (about every 15 MB locally, less often when slow);
 * no output at all for this long means the transfer hung. */
const DEFAULT_STALL_MS = 10 * 60_000;
/** After closing stdin, a finishing git-annex commits the git-annex branch; more than this is hung. */
const CLOSE_TIMEOUT_MS = 60_000;
/** A killed lane gets SIGTERM first, so its git children remove their lock files (git does so on
 * SIGTERM; SIGKILL left a stale .git/index.lock when it hit git-annex's index refresh at exit,
 * blocking every later commit, the user's too). SIGKILL follows if it is still there after this. */
const TERM_GRACE_MS = 2_000;
/** stderr kept per lane for error messages. */
const STDERR_KEEP = 4_000;

export interface LaneResult {
  key: string;
  ok: boolean;
  /** The lane died before git-annex started on this key (it was queued behind another). */
  notStarted?: boolean;
  /** git-annex answered with a blank line: nothing to do (already there, or not available). */
  noop: boolean;
  /** Another process holds the transfer lock for this key (it is already moving). */
  busy: boolean;
  error: string | null;
}

export interface LaneOptions {
  repoDir: string;
  direction: Direction;
  remote: string;
  /** git-annex bandwidth limit for this remote, e.g. "1MiB" (remote.<name>.annex-bwlimit). */
  bwlimit?: string;
  annexBinary?: string;
  stallMs?: number;
  onProgress?: (key: string, bytes: number, size: number | null) => void;
}

/** The argument vector for a lane. Pure; exported for tests. Keys never appear here. */
export function laneArgs(o: Pick<LaneOptions, 'direction' | 'remote' | 'bwlimit'>): string[] {
  if (!isValidRemoteName(o.remote)) throw new Error(`invalid remote name: ${JSON.stringify(o.remote)}`);
  const args = o.direction === 'upload' ? ['copy', `--to=${o.remote}`] : ['get', `--from=${o.remote}`];
  args.push('--batch-keys', '--json', '--json-progress', '--json-error-messages');
  if (o.bwlimit !== undefined) {
    if (!isValidBwLimit(o.bwlimit)) throw new Error(`invalid bandwidth limit: ${JSON.stringify(o.bwlimit)}`);
    args.push('-c', `remote.${o.remote}.annex-bwlimit=${o.bwlimit}`);
  }
  return args;
}

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'progress'; key: string | null; bytes: number; size: number | null }
  | { kind: 'result'; key: string | null; ok: boolean; error: string | null }
  | { kind: 'other' };

/** Classifies one stdout line of a --json --json-progress batch. Pure. */
export function parseLaneLine(line: string): ParsedLine {
  const t = line.trim();
  if (t === '') return { kind: 'blank' };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(t) as Record<string, unknown>;
  } catch {
    return { kind: 'other' };
  }
  if (typeof o['byte-progress'] === 'number') {
    const action = (o.action ?? {}) as Record<string, unknown>;
    const size = o['total-size'];
    return {
      kind: 'progress',
      key: isValidKey(action.key) ? action.key : null,
      bytes: o['byte-progress'],
      size: typeof size === 'number' ? size : null,
    };
  }
  if (typeof o.success === 'boolean') {
    const msgs = Array.isArray(o['error-messages']) ? (o['error-messages'] as unknown[]).map(String) : [];
    // A failure git-annex explains only in the note ("unable to check cloud": remote unreachable).
    if (msgs.length === 0 && !o.success && typeof o.note === 'string' && !/^(to|from) /.test(o.note)) {
      msgs.push(o.note);
    }
    return {
      kind: 'result',
      key: isValidKey(o.key) ? o.key : null,
      ok: o.success,
      error: o.success ? null : msgs.join(' ').trim().slice(0, 500) || 'failed',
    };
  }
  return { kind: 'other' };
}

export class AnnexLane {
  private child: ChildProcess | null = null;
  /** Keys written to git-annex and not yet answered, in order; the head is the one running. */
  private pending: Array<{ key: string; resolve: (r: LaneResult) => void }> = [];
  private stderrTail = '';
  private stallTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  private exitedFlag = false;
  private hardKilledAt: number | null = null;
  readonly direction: Direction;
  readonly remote: string;

  constructor(private readonly o: LaneOptions) {
    this.direction = o.direction;
    this.remote = o.remote;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** When SIGTERM was not enough and the group got SIGKILL (a git of it may have left index.lock),
   * or null. */
  get hardKilled(): number | null {
    return this.hardKilledAt;
  }

  get alive(): boolean {
    return this.child !== null && !this.exitedFlag;
  }

  /** The key git-annex is working on now. */
  get busyKey(): string | null {
    return this.pending[0]?.key ?? null;
  }

  /** Keys handed to git-annex and not answered yet (running + pipelined). */
  get inFlight(): number {
    return this.pending.length;
  }

  start(): void {
    const args = laneArgs(this.o);
    const child = spawn(this.o.annexBinary ?? 'git-annex', args, {
      cwd: this.o.repoDir,
      // runner.ts's childEnv: no prompts, parseable English, no ssh waiting on a password, no secrets.
      env: childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exitedFlag = true;
        this.clearStall();
        const all = this.pending;
        this.pending = [];
        const why = signal ? `killed by ${signal}` : `exited with code ${code}`;
        const tail = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
        all.forEach((p, i) =>
          p.resolve({
            key: p.key,
            ok: false,
            noop: false,
            notStarted: i > 0,
            busy: i === 0 && isAnnexTransferBusy(this.stderrTail),
            error: `git-annex ${why}${tail ? `: ${tail}` : ''}`,
          }),
        );
        resolve();
      });
    });
    child.on('error', () => {
      // ENOENT and friends: 'close' follows and fails the current key with the exit reason.
    });
    child.stdin?.on('error', () => {
      // EPIPE when git-annex died; 'close' reports it.
    });
    child.stderr?.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-STDERR_KEEP);
      this.touch();
    });
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => this.onLine(line));
  }

  /**
   * Hands one key to git-annex; resolves (never rejects) with its outcome once git-annex answers.
   * May be called again before that (pipelining): answers come back in the same order.
   */
  transfer(key: string): Promise<LaneResult> {
    if (!isValidKey(key))
      return Promise.resolve({ key, ok: false, noop: false, busy: false, error: 'invalid key' });
    if (!this.alive) {
      return Promise.resolve({
        key,
        ok: false,
        noop: false,
        busy: false,
        notStarted: true,
        error: 'git-annex lane not running',
      });
    }
    return new Promise((resolve) => {
      if (this.pending.length === 0) this.stderrTail = '';
      this.pending.push({ key, resolve });
      this.touch();
      this.child!.stdin!.write(`${key}\n`);
    });
  }

  /**
   * Ends stdin and waits for git-annex to exit: on the way out it commits the git-annex branch and
   * refreshes the index entries of the files it filled. Killed after timeoutMs.
   */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    if (!this.child) return;
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Ends the whole process group now (cancel, pause, stall): SIGTERM, then SIGKILL. Pending keys
   * fail; a transfer cut off this way resumes from its temporary file next time. */
  kill(): void {
    const pid = this.child?.pid;
    if (!pid || this.exitedFlag) return;
    this.signal(pid, 'SIGTERM');
    const hard = setTimeout(() => {
      if (this.exitedFlag) return;
      this.hardKilledAt = Date.now();
      this.signal(pid, 'SIGKILL');
    }, TERM_GRACE_MS);
    hard.unref();
  }

  private signal(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        killChild(this.child, sig);
      } catch {
        // Already gone.
      }
    }
  }

  async killAndWait(): Promise<void> {
    this.kill();
    await this.exited;
  }

  private onLine(line: string): void {
    this.touch();
    const cur = this.pending[0];
    const p = parseLaneLine(line);
    if (!cur) return;
    if (p.kind === 'progress') {
      if (p.key === null || p.key === cur.key) this.o.onProgress?.(cur.key, p.bytes, p.size);
      return;
    }
    if (p.kind === 'blank' || p.kind === 'result') {
      // Without -J answers are in input order; a result naming another key would mean they are not,
      // and matching it to the head would misreport it. Skip it; the stall timer bounds the wait.
      if (p.kind === 'result' && p.key !== null && p.key !== cur.key) return;
      this.pending.shift();
      const err = p.kind === 'result' ? p.error : null;
      const busy = p.kind === 'result' && !p.ok && isAnnexTransferBusy(`${err ?? ''} ${this.stderrTail}`);
      const stderrLine = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
      this.stderrTail = '';
      this.touch();
      cur.resolve({
        key: cur.key,
        ok: p.kind === 'blank' ? true : p.ok,
        noop: p.kind === 'blank',
        busy,
        // git-annex's message is often generic ("Transfer failed"); the cause (ssh: Connection
        // refused) is on stderr, and the unreachable check needs it.
        error:
          p.kind === 'result' && !p.ok
            ? [err && err !== 'failed' ? err : '', stderrLine].filter(Boolean).join(': ') || 'failed'
            : null,
      });
    }
  }

  private touch(): void {
    this.clearStall();
    if (this.pending.length === 0) return;
    this.stallTimer = setTimeout(() => {
      this.stderrTail += '\nno progress from git-annex; transfer stalled';
      this.kill();
    }, this.o.stallMs ?? DEFAULT_STALL_MS);
    this.stallTimer.unref();
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }
}
