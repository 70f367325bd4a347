// Validation of everything that comes out of git-annex (or a peer, via the git-annex branch) before
// it is used as a batch input line, a path component or a `-c` value. Keys travel only over --batch
// stdin, never as arguments, but a malformed line still kills a batch process ("Batch input parse
// failure"), and a key is also used to build paths under .git/annex/transfer, so both must be safe.

/**
 * A git-annex key: BACKEND[-sSIZE][-mMTIME][-SCHUNKSIZE-CCHUNK]--NAME. The name part may hold almost
 * anything git-annex allows in a file name extension, but never a slash, NUL, newline or other
 * control character (git-annex escapes those). 400 characters is above any key git-annex makes
 * (it caps extensions), and below PATH_MAX for the transfer info path built from it.
 */
const KEY_RE = /^[A-Z0-9_]{2,20}(?:-[smSC][0-9]{1,20})*--[^/\x00-\x1f\x7f]{0,400}$/;

export function isValidKey(s: unknown): s is string {
  return typeof s === 'string' && KEY_RE.test(s) && s !== '.' && s !== '..';
}

/** The size a key carries in its `-s` field, or null (WORM/URL keys may have none). */
export function keySize(key: string): number | null {
  const m = /^[A-Z0-9_]+((?:-[smSC][0-9]+)*)--/.exec(key);
  if (!m || m[1] === undefined) return null;
  const s = /-s([0-9]+)/.exec(m[1]);
  return s && s[1] !== undefined ? Number(s[1]) : null;
}

/** A repository UUID as git-annex writes them (lower-case 8-4-4-4-12 hex). */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isValidUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

/**
 * A remote name we are willing to put into `--from=`/`--to=` and `-c remote.<name>.…`: the
 * characters git itself accepts in practice, never a leading dash (it would read as an option).
 */
const REMOTE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

export function isValidRemoteName(s: unknown): s is string {
  return typeof s === 'string' && REMOTE_RE.test(s);
}

/** A bandwidth limit in git-annex's syntax ("1MiB", "500KB", "100k"): digits and a unit, nothing else. */
const BWLIMIT_RE = /^[0-9]{1,12}(?:\.[0-9]{1,3})?\s?(?:[kKmMgGtT]i?[bB]?|[bB])?$/;

export function isValidBwLimit(s: unknown): s is string {
  return typeof s === 'string' && BWLIMIT_RE.test(s);
}

/**
 * A work-tree path from git-annex output that we feed back to `--batch` (one per line): relative,
 * no newline or NUL (those would split or corrupt the batch stream), no `..` escape.
 */
export function isSafeRelPath(s: unknown): s is string {
  if (typeof s !== 'string' || s.length === 0 || s.length > 4096) return false;
  if (/[\x00\n\r]/.test(s) || s.startsWith('/')) return false;
  return !s.split('/').some((p) => p === '..');
}
