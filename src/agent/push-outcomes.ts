// The outcome of the last push to each remote: one writer (the pusher), read by status and by the
// network map (a remote whose last push failed is announced unreachable). Created before both, so
// neither needs the other.

export interface RemoteState {
  name: string;
  lastPushOk: boolean | null;
  lastPushAt: string | null;
  paused: boolean;
  error: string | null;
  failures: number;
  nextRetryAt: number | null;
}

export class PushOutcomes {
  private readonly states = new Map<string, RemoteState>();

  /** The remote's record, made (never pushed yet) on first use; the pusher alone changes it. */
  entry(name: string): RemoteState {
    let s = this.states.get(name);
    if (!s) {
      s = {
        name,
        lastPushOk: null,
        lastPushAt: null,
        paused: false,
        error: null,
        failures: 0,
        nextRetryAt: null,
      };
      this.states.set(name, s);
    }
    return s;
  }

  /** Whether the last push to `remote` worked (null: not tried yet). */
  lastPushOk(remote: string): boolean | null {
    return this.states.get(remote)?.lastPushOk ?? null;
  }
}
