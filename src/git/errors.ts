// Typed errors for everything git and git-annex can tell us. Callers branch on the class (or its
// `code`), never on message text; the text parsing lives here, once.
import { AutosyncError } from '../core/errors.js';

/**
 * Base for every failure of a git or git-annex child process. `exitStatus` is the child's exit
 * status (null when it was killed or never ran); `code` names the kind of failure, one per class.
 */
export class GitError extends AutosyncError {
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly exitStatus: number | null,
    readonly stderr: string,
    code = 'git-failed',
  ) {
    super(message, code);
    this.name = 'GitError';
  }
}

/**
 * A failure of the machine, not of what was asked: the disk is full, the disk could not read or
 * write, a lock stayed held. The same command works once the cause is gone, so the whole operation is
 * retried with a backoff; it is never a reason to set a path aside as one git refuses. `what` says
 * the cause in words, for status and the log.
 */
export abstract class TransientError extends GitError {
  abstract readonly what: string;
}

/** No space left on the device (ENOSPC) or the disk quota is used up (EDQUOT). */
export class DiskFullError extends TransientError {
  override name = 'DiskFullError';
  override readonly code: string = 'disk-full';
  get what(): string {
    return /quota/i.test(this.stderr) ? 'disk quota exceeded (EDQUOT)' : 'disk full (ENOSPC)';
  }
}

/** The disk (or the network file system) failed a read or a write (EIO). */
export class DiskIoError extends TransientError {
  override name = 'DiskIoError';
  override readonly code: string = 'disk-io';
  readonly what = 'disk I/O error (EIO)';
}

/** Another process holds `.git/index.lock` (or another `*.lock`). Retryable. */
export class LockedError extends TransientError {
  override name = 'LockedError';
  override readonly code: string = 'locked';
  readonly what = 'another git holds a lock';
}

/** A push was refused because the remote has commits we do not (non-fast-forward). */
export class PushRejectedError extends GitError {
  override name = 'PushRejectedError';
  override readonly code: string = 'push-rejected';
}

/** The remote could not be reached at all (DNS, connection refused, missing path, timeout). */
export class RemoteUnreachableError extends GitError {
  override name = 'RemoteUnreachableError';
  override readonly code: string = 'remote-unreachable';
}

/**
 * A command ran past its deadline and was killed. Transient: what makes git or git-annex hang is
 * a lock another process holds (git-annex waits on its locks without a word) or a stalled disk,
 * not the paths it was given; the deadlines scale with the work (rawpaths annexStageTimeoutMs).
 */
export class TimeoutError extends TransientError {
  override name = 'TimeoutError';
  override readonly code: string = 'timeout';
  readonly what = 'timed out (a lock held by another process, or a stalled disk)';
}

/**
 * The repository is not in a state the agent may touch: the user is in the middle of a merge, rebase
 * or cherry-pick, or HEAD is not the branch the agent syncs. Work waits (and retries) until it is.
 */
export class BusyError extends GitError {
  override name = 'BusyError';
  override readonly code: string = 'busy';
}

/**
 * A path inside a submodule's work tree: git cannot stage it in this repository. The message says
 * what to do instead (the agent records the submodule's new commit, see GitSync.gitlinks).
 */
export class InSubmoduleError extends GitError {
  override name = 'InSubmoduleError';
  override readonly code: string = 'in-submodule';
  constructor(
    readonly submodule: string,
    args: readonly string[],
    code: number | null,
    stderr: string,
  ) {
    super(
      `inside submodule '${submodule}': commit them in the submodule (git -C ${submodule} commit) and the agent will record the new submodule commit`,
      args,
      code,
      stderr,
    );
  }
}

/** The directory is not inside a git repository ("fatal: not a git repository"). */
export class NotARepositoryError extends GitError {
  override name = 'NotARepositoryError';
  override readonly code: string = 'not-a-repository';
}

/** The repository has no work tree (a bare one): "this operation must be run in a work tree". */
export class NoWorkTreeError extends GitError {
  override name = 'NoWorkTreeError';
  override readonly code: string = 'no-work-tree';
}

/** The binary is not installed (ENOENT on spawn). */
export class NotInstalledError extends GitError {
  override name = 'NotInstalledError';
  override readonly code: string = 'not-installed';
}

// git: "fatal: unable to write loose object file: No space left on device", "Unable to create
// '….lock': No space left on device"; git-annex (Haskell): "resource exhausted (No space left on
// device)". Checked before LOCK_RE: a lock file that cannot be created on a full disk is no lock.
const DISK_FULL_RE = /No space left on device|\bENOSPC\b|Disk quota exceeded|\bEDQUOT\b/i;
const DISK_IO_RE = /Input\/output error|\bEIO\b/;
// git check-ignore / add / update-index on a path in a submodule's work tree.
const IN_SUBMODULE_RE = /^fatal: Pathspec '.*' is in submodule '(.*)'$/m;
const LOCK_RE =
  /index\.lock': File exists|Unable to create '.*\.lock'|cannot lock ref|Another git process seems/i;
const UNREACHABLE_RE =
  /Could not read from remote repository|does not appear to be a git repository|Connection refused|Could not resolve host|unable to access|Connection timed out|No route to host|fatal: '.*' does not exist|Host key verification failed/i;

// git rev-parse and friends outside a repository, and in a bare one. Checked last: a remote that
// "does not appear to be a git repository" is an unreachable remote, not this directory.
const NOT_A_REPOSITORY_RE = /not a git repository/i;
const NO_WORK_TREE_RE = /this operation must be run in a work tree/i;

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
  if (DISK_FULL_RE.test(stderr)) return new DiskFullError(message, args, code, stderr);
  if (DISK_IO_RE.test(stderr)) return new DiskIoError(message, args, code, stderr);
  if (LOCK_RE.test(stderr)) return new LockedError(message, args, code, stderr);
  const sub = IN_SUBMODULE_RE.exec(stderr);
  if (sub) return new InSubmoduleError(sub[1]!, args, code, stderr);
  if (UNREACHABLE_RE.test(stderr)) return new RemoteUnreachableError(message, args, code, stderr);
  if (NOT_A_REPOSITORY_RE.test(stderr)) return new NotARepositoryError(message, args, code, stderr);
  if (NO_WORK_TREE_RE.test(stderr)) return new NoWorkTreeError(message, args, code, stderr);
  return new GitError(message, args, code, stderr);
}

/** Node's own errors with the same causes (a write of ours to the work tree or .git/autosync). */
const NODE_TRANSIENT: Record<string, string> = {
  ENOSPC: 'disk full (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EIO: 'disk I/O error (EIO)',
};

/** The cause in words when a failure is transient (see TransientError), else null. Pure. */
export function transientCause(e: unknown): string | null {
  if (e instanceof TransientError) return e.what;
  if (e instanceof GitError) return null;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return (typeof code === 'string' && NODE_TRANSIENT[code]) || null;
}

// What a failure means in the context of one command. The same words mean different things from
// different commands ("does not exist" is a vanished file to update-index and a missing remote to
// fetch), so classify() does not turn these into classes; the command's caller asks, by name.

// git update-index --stdin on a path that went away between the scan and the read.
const VANISHED_RE = /No such file|does not exist|unable to stat/i;
// git merge / read-tree: a tracked file changed under the merge, or an untracked one is in the way.
const WORK_TREE_IN_THE_WAY_RE = /would be overwritten|not uptodate|untracked working tree files/i;
// git merge --ff-only: untracked files (listed after it, one per line with a tab) are in the way.
const UNTRACKED_IN_THE_WAY_RE = /untracked working tree files would be/;

/** update-index failed because a file vanished while git read it (retried: --remove handles it). */
export function isVanishedPath(e: unknown): e is GitError {
  return e instanceof GitError && VANISHED_RE.test(e.stderr);
}

/** A merge failed because the work tree changed under it (commit what changed, merge again). */
export function isWorkTreeInTheWay(e: unknown): e is GitError {
  return e instanceof GitError && WORK_TREE_IN_THE_WAY_RE.test(e.stderr);
}

/** A fast-forward failed because untracked files are in the way; their paths follow on stderr. */
export function isUntrackedInTheWay(e: unknown): e is GitError {
  return e instanceof GitError && UNTRACKED_IN_THE_WAY_RE.test(e.stderr);
}

// git push --porcelain: the summary of a refused ref.
const NON_FAST_FORWARD_RE = /non-fast-forward|fetch first|stale info/;
const CHECKED_OUT_RE = /checked out|current branch/;

/** Why a remote refused a pushed ref, from the summary of `git push --porcelain`. Pure. */
export function pushRefusal(summary: string): { nonFastForward: boolean; checkedOut: boolean } {
  return { nonFastForward: NON_FAST_FORWARD_RE.test(summary), checkedOut: CHECKED_OUT_RE.test(summary) };
}

// git-annex copy/get --batch: what a failed transfer's message (and the stderr around it) says.
/** Another process transfers the key, or holds its transfer lock: wait, this is no failure. */
const ANNEX_BUSY_RE = /transfer already in progress|unable to take transfer lock/i;
/** The remote is not there at all, as opposed to a problem with one key. */
const ANNEX_UNREACHABLE_RE =
  /unable to check|unable to access|not available|Connection refused|Could not resolve|No route to host|timed out|Network is unreachable|does not exist|not a git repository/i;

/** Whether git-annex's message says another process is moving this key right now. Pure. */
export function isAnnexTransferBusy(text: string): boolean {
  return ANNEX_BUSY_RE.test(text);
}

/** Whether git-annex's message says the remote is not there at all. Pure. */
export function isAnnexRemoteUnreachable(text: string): boolean {
  return ANNEX_UNREACHABLE_RE.test(text);
}
