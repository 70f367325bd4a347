// Validation of every value a signal carries. A peer is never trusted: these checks run on each
// inbound field before anything else looks at it, and on outbound fields so we never emit what a
// correct receiver would reject. The rules are deliberately stricter than git's own, because a
// value that passes here may later reach `git fetch` as an argument (after `--`, never as a path,
// URL or option, but defence in depth costs nothing).

/** Git object ids: SHA-1 (40 hex) or SHA-256 (64 hex), lower case as git prints them. */
const SHA_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Whitelist for ref names: under refs/, only [A-Za-z0-9._/-]. No component may start with '-'
 * (so no value ever looks like an option, even if a caller forgets `--`) or '.'.
 */
const REF_WHITELIST_RE = /^refs\/(?:[A-Za-z0-9_][A-Za-z0-9._-]*\/)*[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Long enough for any branch name seen in practice; short enough that 64 refs fit a signal. */
export const MAX_REF_NAME = 200;

/** Node and repository ids: [A-Za-z0-9._-], not starting with '-' or '.', bounded. */
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** A git-annex UUID is 36 characters; 128 leaves room for generated ids and hostnames. */
export const MAX_ID = 128;

export function isSha(value: string): boolean {
  return SHA_RE.test(value);
}

export function isId(value: string): boolean {
  return value.length >= 1 && value.length <= MAX_ID && ID_RE.test(value);
}

/**
 * git check-ref-format rules, in pure TypeScript (see git-check-ref-format(1)). Returns the rule a
 * name breaks, or null when it is a valid full ref name. Implemented without spawning git because
 * it runs on every inbound signal, and a peer must not be able to make us spawn anything.
 */
export function checkRefFormat(name: string): string | null {
  if (name.length === 0) return 'empty';
  if (name === '@') return 'is "@"';
  if (!name.startsWith('refs/')) return 'does not start with refs/';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'contains a control character';
  }
  if (/[ ~^:?*[\\]/.test(name)) return 'contains one of space ~ ^ : ? * [ \\';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.includes('//')) return 'contains "//"';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return 'has a component starting with "."';
    if (component.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  return null;
}

/** Why a ref name is refused, or null if it is accepted (whitelist AND check-ref-format). */
export function refNameProblem(name: string): string | null {
  if (name.length > MAX_REF_NAME) return `longer than ${MAX_REF_NAME} characters`;
  const rule = checkRefFormat(name);
  if (rule) return rule;
  if (!REF_WHITELIST_RE.test(name))
    return 'has characters outside [A-Za-z0-9._/-] or a component starting with "-"';
  return null;
}

export function isRefName(name: string): boolean {
  return refNameProblem(name) === null;
}
