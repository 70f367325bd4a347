// How the command line ends: the one table from an error's code to the exit status, and the
// error the CLI's own refusals are thrown as. docs/cli.md lists what each status means per verb.
import { UserError } from '../core/errors.js';

/** The three exit statuses (docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Every error code the CLI knows, and the status it exits with. */
export const EXIT_CODES = {
  /** The command line itself is wrong: unknown verb or option, a missing or extra argument. */
  'bad-usage': EXIT.usage,
  /** A value is wrong: -C is not a directory, R is not a remote, KEY is not an annex key. */
  'bad-input': EXIT.usage,
  /** The verb needs a running agent and nothing listens on its socket (control/errors.ts). */
  'no-agent': EXIT.failed,
  /** start: an agent already runs for this repository. */
  'agent-running': EXIT.failed,
  /** The agent did not come up, or did not stop, in the time given. */
  'agent-timeout': EXIT.failed,
  /** The agent was asked and answered with a failure (cancel). */
  'agent-failed': EXIT.failed,
  /** The wizard was left part way (Ctrl-C, Ctrl-D). */
  cancelled: EXIT.failed,
  /** The verb exists but does nothing in this version (pair). */
  'not-available': EXIT.failed,
} as const satisfies Record<string, 1 | 2>;

export type CliErrorCode = keyof typeof EXIT_CODES;

/** A refusal of the CLI: one line for stderr, and its code (hence its exit status). */
export class CliError extends UserError {
  override name = 'CliError';
  declare readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string) {
    super(message, EXIT_CODES[code], code);
  }
}

function tableCode(e: unknown): CliErrorCode | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(EXIT_CODES, code) ? (code as CliErrorCode) : null;
}

/**
 * The exit status for an error that ended a verb: its code's row in the table; a UserError from
 * below the CLI (a bad config value, not a repository) brings its own status; anything else is 1.
 */
export function exitCodeOf(e: unknown): 1 | 2 {
  const code = tableCode(e);
  if (code) return EXIT_CODES[code];
  if (e instanceof UserError) return e.exitCode;
  return EXIT.failed;
}

/** Whether the error is one the user is meant to read as it is (no stack, even with --debug). */
export function isExpected(e: unknown): e is Error {
  return tableCode(e) !== null || e instanceof UserError;
}
