// Service and Supervisor. Every long-running part of the agent is a Service: start() sets it up and
// returns; stop() tears it down and resolves when it is quiet. A service that fails reports through
// the `fail` callback it is given (or throws from start); the supervisor then stops it, waits
// (exponential backoff) and starts it again, and the crash shows in status. A failure no restart can
// mend (classifyFailure: a FatalServiceError, the kernel out of inotify watches) is not retried: the
// service stays 'failed' and status shows what to do. Services start in list order and stop in
// reverse, as in the daemon-as-a-list-of-threads model.
//
// Waits on: each service's start() and its `fail` calls. Produces: the services' state for status,
// and 'serviceChanged' events on the bus.
import type { EventBus } from './bus.js';
import type { Logger } from './log.js';
import { backoffDelay } from './backoff.js';
import { FatalServiceError } from './errors.js';
import { background } from './background.js';

export interface Service {
  readonly name: string;
  start(ctx: ServiceContext): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceContext {
  /** Call when the service has broken and must be restarted. Never throws. */
  fail(err: unknown): void;
}

export interface ServiceStatus {
  name: string;
  /** 'crashed': restarts by itself after a backoff; 'failed': a fatal error, not restarted (see hint). */
  state: 'starting' | 'running' | 'stopped' | 'crashed' | 'failed';
  restarts: number;
  lastError: string | null;
  /** With 'failed' only: what the user has to do before the service can run again. */
  hint?: string;
}

/**
 * What to do about the kernel's inotify limit. 524288 watches (one per watched directory) is the
 * value VS Code's and Syncthing's docs suggest: a watch costs about 1 KiB of kernel memory, so at
 * most half a GiB, and only for watches actually taken. The sysctl.d line keeps it past a reboot.
 */
export const INOTIFY_HINT =
  'raise the limit of inotify watches: sudo sysctl fs.inotify.max_user_watches=524288 ' +
  '(to keep it after a reboot: echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-inotify.conf), ' +
  'then restart the agent: git autosync stop; git autosync start';

/** libuv's words for ENOSPC from inotify_add_watch (fs.watch): the watch limit, not a full disk. */
const INOTIFY_LIMIT_RE = /System limit for number of file watchers reached/i;

export type Failure = { fatal: false; message: string } | { fatal: true; message: string; hint: string };

/**
 * Whether a service's failure is fatal (a restart would fail the same way until the user acts) or
 * transient (worth a restart after a backoff), with the message for status. Pure.
 */
export function classifyFailure(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof FatalServiceError) return { fatal: true, message, hint: err.hint };
  const e = err as NodeJS.ErrnoException | null;
  // ENOSPC from a watch call (fs.watch names the syscall 'watch'): the watch limit, never a full disk.
  const watchLimit =
    (e?.code === 'ENOSPC' && typeof e.syscall === 'string' && e.syscall.startsWith('watch')) ||
    INOTIFY_LIMIT_RE.test(message);
  if (watchLimit) return { fatal: true, message, hint: INOTIFY_HINT };
  return { fatal: false, message };
}

/** First restart after 1 s: long enough not to spin on a persistent fault, short enough to be unseen. */
const BACKOFF_BASE_MS = 1_000;
/** A crash-looping service is retried at least this often, so it recovers once the fault clears. */
const BACKOFF_MAX_MS = 60_000;
/** A service that ran this long without failing counts as healthy again: its backoff resets. */
const HEALTHY_AFTER_MS = 120_000;

interface Slot {
  service: Service;
  status: ServiceStatus;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  failures: number;
}

export class Supervisor {
  private slots: Slot[] = [];
  private stopping = false;

  constructor(
    private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly backoffBaseMs = BACKOFF_BASE_MS,
  ) {}

  add(service: Service): void {
    this.slots.push({
      service,
      status: { name: service.name, state: 'stopped', restarts: 0, lastError: null },
      startedAt: 0,
      timer: null,
      failures: 0,
    });
  }

  /** Starts all services in order. A service that fails to start is retried in the background. */
  async startAll(): Promise<void> {
    for (const slot of this.slots) await this.startOne(slot);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const slot of [...this.slots].reverse()) {
      if (slot.timer) clearTimeout(slot.timer);
      if (slot.status.state === 'running' || slot.status.state === 'starting') {
        try {
          await slot.service.stop();
        } catch (e) {
          this.log.warn({ service: slot.service.name, err: String(e) }, 'service stop failed');
        }
      }
      slot.status.state = 'stopped';
    }
  }

  /**
   * Stops and starts one running service, on purpose (its inputs changed: e.g. the refs watch after
   * the remotes changed). Not a crash: no backoff, no restart counted. A service that is not running
   * is left to its own schedule.
   */
  async restart(name: string): Promise<void> {
    const slot = this.slots.find((s) => s.service.name === name);
    if (!slot || this.stopping || slot.status.state !== 'running') return;
    slot.status.state = 'stopped';
    try {
      await slot.service.stop();
    } catch (e) {
      this.log.warn({ service: name, err: String(e) }, 'service stop failed');
    }
    await this.startOne(slot);
  }

  statuses(): ServiceStatus[] {
    return this.slots.map((s) => ({ ...s.status }));
  }

  private async startOne(slot: Slot): Promise<void> {
    if (this.stopping) return;
    slot.status.state = 'starting';
    slot.startedAt = Date.now();
    let failed = false;
    let failedNow: () => void = () => {};
    const failure = new Promise<void>((resolve) => (failedNow = resolve));
    const ctx: ServiceContext = {
      fail: (err) => {
        failedNow();
        if (failed || this.stopping) return;
        failed = true;
        background(this.onCrash(slot, err), this.log, `handling the crash of ${slot.service.name}`);
      },
    };
    try {
      // A service that fails while starting may never finish its start() (a watcher waiting for a
      // 'ready' that its error prevented): the failure ends the wait, so the services after it
      // start, the agent reports itself running, and the crash is handled (restart or 'failed').
      // A start that rejects later is that same failure, already counted (ctx.fail ignores it).
      const started = slot.service.start(ctx).then(
        () => undefined,
        (err: unknown) => ctx.fail(err),
      );
      await Promise.race([started, failure]);
      if (!failed) {
        slot.status.state = 'running';
        this.bus.emit('serviceChanged', {
          name: slot.service.name,
          state: 'running',
          restarts: slot.status.restarts,
        });
      }
    } catch (err) {
      ctx.fail(err);
    }
  }

  private async onCrash(slot: Slot, err: unknown): Promise<void> {
    const failure = classifyFailure(err);
    if (failure.fatal) return this.onFatal(slot, failure.message, failure.hint);
    const msg = failure.message;
    slot.status.state = 'crashed';
    slot.status.lastError = msg;
    if (Date.now() - slot.startedAt > HEALTHY_AFTER_MS) slot.failures = 0;
    slot.failures++;
    this.log.error({ service: slot.service.name, err: msg }, 'service crashed; restarting');
    this.bus.emit('serviceChanged', {
      name: slot.service.name,
      state: 'crashed',
      error: msg,
      restarts: slot.status.restarts,
    });
    try {
      await slot.service.stop();
    } catch {
      // It already failed; a failing stop adds nothing we can act on.
    }
    const delay = backoffDelay(slot.failures, this.backoffBaseMs, BACKOFF_MAX_MS);
    slot.timer = setTimeout(() => {
      slot.timer = null;
      slot.status.restarts++;
      background(this.startOne(slot), this.log, `restarting ${slot.service.name}`);
    }, delay);
  }

  /** A failure no restart mends: the service is stopped and left 'failed', with what to do. */
  private async onFatal(slot: Slot, msg: string, hint: string): Promise<void> {
    slot.status.state = 'failed';
    slot.status.lastError = msg;
    slot.status.hint = hint;
    this.log.error({ service: slot.service.name, err: msg, hint }, 'service failed; not restarted');
    this.bus.emit('serviceChanged', {
      name: slot.service.name,
      state: 'failed',
      error: msg,
      hint,
      restarts: slot.status.restarts,
    });
    try {
      await slot.service.stop();
    } catch {
      // It already failed; a failing stop adds nothing we can act on.
    }
  }
}
