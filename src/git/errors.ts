// Typed errors for everything git and git-annex can tell us. Callers branch on the class, never on
// message text; the text parsing lives here, once.

/** Base for every failure of a git or git-annex child process. */
export class GitError extends Error {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

/** Another process holds `.git/index.lock` (or another `*.lock`). Retryable. */
export class LockedError extends GitError {
  override name = 'LockedError';
}

/** A push was refused because the remote has commits we do not (non-fast-forward). */
export class PushRejectedError extends GitError {
  override name = 'PushRejectedError';
}

/** The remote could not be reached at all (DNS, connection refused, missing path, timeout). */
export class RemoteUnreachableError extends GitError {
  override name = 'RemoteUnreachableError';
}

/** A command ran past its deadline and was killed. */
export class TimeoutError extends GitError {
  override name = 'TimeoutError';
}

/**
 * The repository is not in a state the agent may touch: the user is in the middle of a merge, rebase
 * or cherry-pick, or HEAD is not the branch the agent syncs. Work waits (and retries) until it is.
 */
export class BusyError extends GitError {
  override name = 'BusyError';
}

/** The binary is not installed (ENOENT on spawn). */
export class NotInstalledError extends GitError {
  override name = 'NotInstalledError';
}

/** User-facing error: one clear line, and the CLI exit code that goes with it. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

const LOCK_RE =
  /index\.lock': File exists|Unable to create '.*\.lock'|cannot lock ref|Another git process seems/i;
const UNREACHABLE_RE =
  /Could not read from remote repository|does not appear to be a git repository|Connection refused|Could not resolve host|unable to access|Connection timed out|No route to host|fatal: '.*' does not exist|Host key verification failed/i;

/**
 * git's own advice that follows the real cause ("Please make sure you have the correct access
 * rights / and the repository exists.") and hint: lines: true but never the reason itself.
 */
const BOILERPLATE_RE =
  /^(Please make sure you have the correct access rights|and the repository exists\.?$|hint:|\(use "git |To [^ ]+$)/;
/** Lines that name the failure: git's fatal:/error:, a remote's ERROR:/error:, a refused ref. */
const CAUSE_RE =
  /^(fatal|error|ERROR|remote: (fatal|error|ERROR)|git-annex:)\b|^ ! \[|^ssh: |denied|No space left/i;
/** At most this many lines of stderr go into a message: enough for "cause | consequence". */
const MAX_SUMMARY_LINES = 3;

/**
 * The lines of a failed command's stderr that say what is wrong, joined with " | ": the lines that
 * name a cause first (git puts "fatal: 'x' does not appear to be a git repository" before its
 * advice), else the last lines that are not advice. Before, the last three lines were kept, so an
 * ssh remote's error read " | Please make sure you have the correct access rights".
 */
export function stderrSummary(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '' && !BOILERPLATE_RE.test(l.trim()));
  const causes = lines.filter((l) => CAUSE_RE.test(l));
  const picked = causes.length > 0 ? causes.slice(0, MAX_SUMMARY_LINES) : lines.slice(-MAX_SUMMARY_LINES);
  return picked.map((l) => l.trim()).join(' | ');
}

/** Picks the most specific class for a failed command from its stderr. */
export function classify(
  args: readonly string[],
  code: number | null,
  stderr: string,
  message: string,
): GitError {
  if (LOCK_RE.test(stderr)) return new LockedError(message, args, code, stderr);
  if (UNREACHABLE_RE.test(stderr)) return new RemoteUnreachableError(message, args, code, stderr);
  return new GitError(message, args, code, stderr);
}
