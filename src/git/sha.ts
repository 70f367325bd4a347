// What an object name looks like: the one home of the SHA pattern. git names objects with 40
// lower-case hex digits (SHA-1) or 64 (SHA-256, `git init --object-format=sha256`); nothing in
// between, and never upper case (git prints lower case, and a signal that carries another spelling
// is not one git wrote).

/** The pattern, unanchored, for parsers that capture a SHA inside a line of git's output. */
export const SHA_PATTERN = '[0-9a-f]{40}(?:[0-9a-f]{24})?';

const SHA_RE = new RegExp(`^${SHA_PATTERN}$`);

/** Whether `s` is a full object name: 40 or 64 lower-case hex digits. Pure. */
export function isSha(s: string): boolean {
  return SHA_RE.test(s);
}
