// background(): the one way to start work that nobody awaits (a timer's callback, an event handler,
// a `stop` asked for from inside the agent). The work runs exactly as it would have; what this adds
// is the catch: a rejection is logged at error level, naming the work, instead of reaching Node's
// 'unhandledRejection' (which ends a process by default, and which the agent can only log without
// saying what failed). The lint refuses a bare `void promise` (no-floating-promises with ignoreVoid
// off, eslint.config.js), so every such call comes here.
//
// Waits on: the promise it is given. Produces: at most one log line, when that promise rejects.
// Imports nothing from src/: the logger is any object with pino's `error(obj, msg)`.

/** The part of the logger background() uses. */
export interface ErrorLog {
  error(obj: object, msg: string): void;
}

/** Lets `work` run on its own; if it rejects, logs `<what> failed` with the error's stack. */
export function background(work: Promise<unknown>, log: ErrorLog, what: string): void {
  work.catch((err: unknown) => {
    log.error({ err: errorText(err) }, `${what} failed`);
  });
}

/** The stack where there is one (it says where the bug is), else the message or the value. */
export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
