// The typed event bus: for watching only (status, CLI, tests). Work never travels here; it moves
// through queues with one owner each. emit() never blocks and never throws: a listener that throws
// is logged by the caller-supplied handler and the rest still run.

export interface AgentEvents {
  commit: { sha: string; files: number; message: string };
  push: { remote: string; ok: boolean; refs: string[]; error?: string };
  merge: { from: string; head: string; conflicts: number };
  fetch: { remote: string; ok: boolean; error?: string };
  signal: { direction: 'in' | 'out'; transport: string; accepted: boolean; reason?: string };
  service: {
    name: string;
    state: 'running' | 'stopped' | 'crashed' | 'failed';
    error?: string;
    hint?: string;
    restarts: number;
  };
  transfer: { direction: 'upload' | 'download'; key: string; remote: string; state: string };
  log: { level: string; msg: string };
}

type Listener<T> = (payload: T) => void;

export class EventBus {
  private listeners = new Map<keyof AgentEvents, Set<Listener<never>>>();

  on<K extends keyof AgentEvents>(event: K, fn: Listener<AgentEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  emit<K extends keyof AgentEvents>(event: K, payload: AgentEvents[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as Listener<AgentEvents[K]>)(payload);
      } catch {
        // A watcher's bug must never stop work; the bus is best-effort by design.
      }
    }
  }
}
