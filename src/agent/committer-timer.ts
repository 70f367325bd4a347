// The committer's one timer: when the next commit pass is due. The committer says when (its dueIn:
// the pure policy in commit-policy.ts, a retry's backoff, a wait for files held open); this part
// keeps one timer for it.
//
// Each event of a burst moves the quiet period on, and a timer cleared and set again per event (a
// thousand in a 1,000-file burst) cost more than the event's own lstat. So a timer due no later than
// the new time stays; when it fires it asks again, and either the pass runs or the timer is set for
// what is left.
//
// Waits on schedule() calls (an event noted, a pass ended) and on its timer; produces run() calls.

/** A timer that fires this close to its time (the loop's clock trails Date.now() by up to 1 ms) is due. */
const SLACK_MS = 1;

export interface PassTimerDeps {
  /** How long until the next pass is due (null: nothing pending). */
  dueIn: (now: number) => number | null;
  /** Whether a pass may start now (not stopped, none running: a running pass schedules after it). */
  free: () => boolean;
  /** Starts the pass (never blocks). */
  run: () => void;
}

export class PassTimer {
  private timer: NodeJS.Timeout | null = null;
  /** When the timer is due (Date.now() time). */
  private due = 0;

  constructor(private readonly d: PassTimerDeps) {}

  /** Looks again at when the next pass is due: sooner than the timer, it is set again. */
  schedule(): void {
    if (!this.d.free()) return;
    const now = Date.now();
    const ms = this.d.dueIn(now);
    if (ms === null) {
      this.stop();
      return;
    }
    if (this.timer && this.due <= now + ms) return;
    this.stop();
    this.arm(now, ms);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(now: number, ms: number): void {
    this.due = now + ms;
    this.timer = setTimeout(() => this.fire(), ms);
  }

  /** Due: the pass runs, unless the events since the timer was set moved its time on. */
  private fire(): void {
    this.timer = null;
    if (!this.d.free()) return;
    const now = Date.now();
    const ms = this.d.dueIn(now);
    if (ms !== null && ms > SLACK_MS) this.arm(now, ms);
    else this.d.run();
  }
}
