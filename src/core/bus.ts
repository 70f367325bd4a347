// The typed event bus: for watching only (status, CLI, tests). Work never travels here; it moves
// through queues with one owner each. emit() never blocks and never throws: a listener that throws
// is skipped and the rest still run. Events are named for what has happened, in the past tense;
// the event map says each one's payload, so an emitter or a listener of a name not in the map, or
// with the wrong payload, does not compile.

/** The agent's events: name (past tense) -> payload. */
export interface AgentEvents {
  /** The committer made a commit. */
  committed: { sha: string; files: number; message: string };
  /** A push to one remote ended, well or not. */
  pushed: { remote: string; ok: boolean; refs: string[]; error?: string };
  /** The merger merged a remote's branch. */
  merged: { from: string; head: string; conflicts: number };
  /** A fetch from one remote ended, well or not. */
  fetched: { remote: string; ok: boolean; error?: string };
  /** A signal was sent, or one arrived (accepted or rejected). */
  signalled: { direction: 'in' | 'out'; transport: string; accepted: boolean; reason?: string };
  /** A service changed state under the supervisor. */
  serviceChanged: {
    name: string;
    state: 'running' | 'stopped' | 'crashed' | 'failed';
    error?: string;
    hint?: string;
    restarts: number;
  };
  /** A transfer of annexed content changed state (queued, started, done, failed, …). */
  transferChanged: { direction: 'upload' | 'download'; key: string; remote: string; state: string };
  /** A line was logged. */
  logged: { level: string; msg: string };
}

type Listener<T> = (payload: T) => void;

/** A bus over an event map M (name -> payload); the agent's is AgentEvents. */
export class EventBus<M extends object = AgentEvents> {
  private listeners = new Map<keyof M, Set<Listener<never>>>();

  /** Listens to one event; returns the function that stops listening. */
  on<K extends keyof M>(event: K, fn: Listener<M[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as Listener<M[K]>)(payload);
      } catch {
        // A watcher's bug must never stop work; the bus is best-effort by design.
      }
    }
  }
}
