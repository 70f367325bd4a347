// The error base of the project. Every error of ours has a `code`, a short stable string that
// callers branch on (never the message text, which is for people): the CLI maps codes to exit
// codes, the supervisor tells a fatal failure from one worth a restart.

/** Base of every error of ours: the message is for people, `code` for code. */
export class AutosyncError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'AutosyncError';
  }
}

/** User-facing error: one clear line, and the CLI exit code that goes with it. */
export class UserError extends AutosyncError {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
    code = exitCode === 2 ? 'usage' : 'failed',
  ) {
    super(message, code);
    this.name = 'UserError';
  }
}

/**
 * A service failed in a way a restart cannot mend (the machine's limits, not a passing fault): the
 * supervisor marks it failed instead of restarting it, and status shows `hint`, what the user has to
 * do before it can run (then restart the agent).
 */
export class FatalServiceError extends AutosyncError {
  constructor(
    message: string,
    readonly hint: string,
    code = 'service-fatal',
  ) {
    super(message, code);
    this.name = 'FatalServiceError';
  }
}
