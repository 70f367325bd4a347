// The one place that spawns git and git-annex. execFile with an argument vector (never a shell), a
// deadline per command, a cap on concurrent children, and typed errors. Commands elsewhere are plain
// {args, parse} records, so they can be unit-tested against captured output without spawning.
// It is also the one home of every child's environment: childEnv() below builds it for each
// process the agent and the CLI start (git, git-annex and the ssh they run, the notifyCommand hook,
// the background agent), and no secret the user handed us in the environment is ever in it.
import { killChild } from '../core/kill.js';
import { spawn } from 'node:child_process';
import {
  classify,
  NotInstalledError,
  RemoteUnreachableError,
  stderrSummary,
  TimeoutError,
} from './errors.js';

export interface RunOptions {
  cwd?: string;
  /** Bytes written to the child's stdin, then closed. */
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  /** Kill the child after this many ms. Default: DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Exit codes that are answers, not failures (e.g. `merge-base --is-ancestor` exits 1 for "no"). */
  okCodes?: readonly number[];
  /** Kill the child when this fires: a push or fetch cut off because the network changed under it
   * (its connection may hang for minutes on a link that went away). */
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * A result whose stdout is git's exact bytes. File names are bytes to git, not text: a name that is
 * not valid UTF-8 only survives the round trip through a Buffer (decoding turns it into U+FFFD).
 */
export interface BytesResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

export interface Command<T> {
  args: string[];
  parse: (r: RunResult) => T;
  okCodes?: readonly number[];
  input?: string;
}

/** A push of a large repository over a slow link can take minutes; anything longer is hung. */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Two cores on the target machines: more children than this only queue in the kernel instead. */
const DEFAULT_CONCURRENCY = 6;
/** stdout beyond this is a bug (we never ask git for unbounded output without -z streaming). */
const MAX_OUTPUT = 256 * 1024 * 1024;

/** Env for every git and git-annex child: never prompt (no TTY is there to answer), stable English
 * messages to parse. */
const BASE_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: 'true',
  SSH_ASKPASS: 'true',
  LC_ALL: 'C',
  LANG: 'C',
  GIT_MERGE_AUTOEDIT: 'no',
  // `git status` otherwise takes index.lock to write back refreshed stat data, and a person's
  // `git commit` at that moment fails with "index.lock: File exists" (seen in a test). A background
  // tool should take only the locks its writes need.
  GIT_OPTIONAL_LOCKS: '0',
  // ssh must fail rather than wait for a password or a host-key answer nobody will type. git-annex
  // runs ssh itself and ignores this unless GIT_ANNEX_USE_GIT_SSH=1, which we do not set: that would
  // also turn off its ssh connection caching, which many small transfers over one remote depend on.
  // git-annex's ssh cannot prompt either: the agent has no controlling terminal, and SSH_ASKPASS
  // answers nothing.
  GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes -o ConnectTimeout=15',
};

/**
 * Variables that carry a secret the user gives us: the XMPP password, and the one-time pairing code
 * (interface.md). They are for this program only: no child ever sees them (a notifyCommand, or a
 * post-receive hook of a local remote that git runs on our push, would otherwise read them), and
 * takeSecretEnv() moves them out of process.env into memory as soon as the program starts.
 */
export const SECRET_ENV = ['GIT_AUTOSYNC_XMPP_PASSWORD', 'GIT_AUTOSYNC_PAIR_CODE'] as const;
export type SecretEnvName = (typeof SECRET_ENV)[number];

const keptSecrets = new Map<SecretEnvName, string>();

/**
 * Moves the secret variables out of process.env and keeps their values in memory (for XMPP
 * reconnects). Idempotent; called first thing by the CLI and by Agent.open. A variable set again
 * later (a test in the same process) replaces the kept value.
 */
export function takeSecretEnv(): void {
  for (const name of SECRET_ENV) {
    const v = process.env[name];
    if (v !== undefined) {
      if (v !== '') keptSecrets.set(name, v);
      delete process.env[name];
    }
  }
}

/** The secrets we hold, for the background agent (handed to it on its stdin, never in its env). */
export function heldSecrets(): Partial<Record<SecretEnvName, string>> {
  const out: Partial<Record<SecretEnvName, string>> = {};
  for (const name of SECRET_ENV) {
    const v = secretEnv(name);
    if (v) out[name] = v;
  }
  return out;
}

/** Keeps secrets handed over by heldSecrets() in another process; unknown names are ignored. */
export function keepSecrets(values: Record<string, unknown>): void {
  for (const name of SECRET_ENV) {
    const v = values[name];
    if (typeof v === 'string' && v !== '') keptSecrets.set(name, v);
  }
}

/** A secret the user gave in the environment, whether or not takeSecretEnv() has run yet. */
export function secretEnv(name: SecretEnvName): string | undefined {
  return process.env[name] || keptSecrets.get(name);
}

/**
 * The environment of every child process: ours without the secrets, plus `extra`. A `tool` child
 * (git, git-annex, ssh) also gets BASE_ENV; a `user` child (the notifyCommand, the background agent,
 * the demo's agents) gets the user's environment as it is, so their scripts behave as in a shell.
 */
export function childEnv(
  extra: Record<string, string | undefined> = {},
  kind: 'tool' | 'user' = 'tool',
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(kind === 'tool' ? BASE_ENV : {}), ...extra };
  for (const name of SECRET_ENV) delete env[name];
  return env;
}

/** Per-command timing (waited for a slot, ran), for debug logs and benchmarks. */
export type GitTrace = (args: readonly string[], waitMs: number, runMs: number) => void;

export interface RunnerOptions {
  /** Commands at once (DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** The git binary ("git" on PATH). */
  binary?: string;
  /** Called after each command with its timing (none: no timing is reported). */
  trace?: GitTrace | null;
}

export class Runner {
  private active = 0;
  private waiting: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly binary: string;
  private readonly trace: GitTrace | null;

  constructor(
    readonly cwd: string,
    o: RunnerOptions = {},
  ) {
    this.concurrency = o.concurrency ?? DEFAULT_CONCURRENCY;
    this.binary = o.binary ?? 'git';
    this.trace = o.trace ?? null;
  }

  /** Runs `git args...` (or `git annex ...` when args[0] is 'annex'). Rejects with a typed GitError. */
  async git(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const queued = performance.now();
    await this.acquire();
    const started = performance.now();
    try {
      return await runProcess(this.binary, args, { cwd: this.cwd, ...opts });
    } finally {
      this.release();
      this.trace?.(args, started - queued, performance.now() - started);
    }
  }

  /** Like git(), with stdout as the exact bytes git wrote (for NUL-separated file names). */
  async gitBytes(args: readonly string[], opts: RunOptions = {}): Promise<BytesResult> {
    const queued = performance.now();
    await this.acquire();
    const started = performance.now();
    try {
      return await runProcessBytes(this.binary, args, { cwd: this.cwd, ...opts });
    } finally {
      this.release();
      this.trace?.(args, started - queued, performance.now() - started);
    }
  }

  private network = new AbortController();

  /** The signal network commands (push, fetch) run with: cutNetwork() kills those under way. */
  get networkSignal(): AbortSignal {
    return this.network.signal;
  }

  /** The network changed under the commands under way (agent/network-watch.ts): kill them, so they
   * are run again on the new network instead of hanging on the old one. */
  cutNetwork(): void {
    this.network.abort();
    this.network = new AbortController();
  }

  async run<T>(cmd: Command<T>, opts: RunOptions = {}): Promise<T> {
    const r = await this.git(cmd.args, { okCodes: cmd.okCodes, input: cmd.input, ...opts });
    return cmd.parse(r);
  }

  /** Number of git children running right now (for status and tests). */
  get running(): number {
    return this.active;
  }

  private acquire(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => resolve()));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** Spawns one process and collects its output. Exported for the few non-git binaries we run. */
export async function runProcess(
  file: string,
  args: readonly string[],
  opts: RunOptions & { cwd?: string } = {},
): Promise<RunResult> {
  const r = await runProcessBytes(file, args, opts);
  return { stdout: r.stdout.toString('utf8'), stderr: r.stderr, code: r.code };
}

/** runProcess with stdout left as bytes. */
export function runProcessBytes(
  file: string,
  args: readonly string[],
  opts: RunOptions & { cwd?: string } = {},
): Promise<BytesResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<BytesResult>((resolve, reject) => {
    const child = spawn(file, args as string[], {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killChild(child, 'SIGKILL');
    }, timeoutMs);
    let cut = opts.signal?.aborted === true;
    const onAbort = () => {
      cut = true;
      killChild(child, 'SIGKILL');
    };
    if (cut) killChild(child, 'SIGKILL');
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen > MAX_OUTPUT) killChild(child, 'SIGKILL');
      else out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 1000) err.push(b);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(new NotInstalledError(`${file} is not installed (or not on PATH)`, args, null, ''));
      } else reject(e);
    });
    child.stdin.on('error', () => {
      /* the child may exit before reading all of stdin; its exit code tells the story */
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString('utf8');
      const cmd = `${file} ${args.join(' ')}`.slice(0, 200);
      if (cut) {
        reject(new RemoteUnreachableError(`${cmd}: cut off, the network changed`, args, code, stderr));
        return;
      }
      if (timedOut) {
        reject(new TimeoutError(`${cmd}: timed out after ${timeoutMs} ms`, args, code, stderr));
        return;
      }
      const c = code ?? -1;
      if (c === 0 || opts.okCodes?.includes(c)) resolve({ stdout, stderr, code: c });
      else {
        const first = stderrSummary(stderr) || `exit code ${c}`;
        reject(classify(args, code, stderr, `${cmd}: ${first}`));
      }
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
