// Validation of every value a signal carries. A peer is never trusted: these checks run on each
// inbound field before anything else looks at it, and on outbound fields so we never emit what a
// correct receiver would reject. The rules are deliberately stricter than git's own, because a
// value that passes here may later reach `git fetch` as an argument (after `--`, never as a path,
// URL or option, but defence in depth costs nothing). Also the checks of the XMPP configuration
// keys (at the end), which are ours rather than a peer's but share the address rules.
import { parseService } from './credentials.js';
// Git object ids (40 or 64 lower-case hex) are checked with git/sha.ts isSha, their one home.

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

// ---- The XMPP configuration keys ------------------------------------------------------------
// One check per key, shared by `init` (its options and the config already there), the wizard and
// `start` (config.ts). Each returns null for a right value, or what a right value looks like.

/** RFC 7622 forbids these in a localpart; space and control characters are never right either. */
const LOCALPART_RE = /^[^\s"&'/:<>@\x00-\x1f\x7f]{1,1023}$/;
/** A domain: dot-separated labels, or an IP literal. Unicode names are allowed (IDNA). */
const DOMAIN_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s@/\\:.\x00-\x1f\x7f]+(?:\.[^\s@/\\:.\x00-\x1f\x7f]+)*)$/;

function bareJidProblem(value: string, example: string, what: string): string | null {
  const at = value.indexOf('@');
  if (at < 0) return `must be ${what} name@domain, like ${example} (it has no "@")`;
  const local = value.slice(0, at);
  const rest = value.slice(at + 1);
  if (rest.includes('/'))
    return `must be the bare ${what} name@domain, like ${example}, without a "/resource"`;
  if (!LOCALPART_RE.test(local))
    return `must be ${what} name@domain, like ${example} (the part before "@" is not a valid name)`;
  if (!DOMAIN_RE.test(rest))
    return `must be ${what} name@domain, like ${example} (the part after "@" is not a domain)`;
  return null;
}

/** autosync.xmpp.jid: the account, bare (the resource has its own key). */
export function jidProblem(value: string): string | null {
  return bareJidProblem(value, 'alice@example.org', 'an XMPP address');
}

/** autosync.xmpp.room: a MUC room is a JID too, on the server's conference service. */
export function roomProblem(value: string): string | null {
  return bareJidProblem(value, 'sync@conference.example.org', 'a room address');
}

/** autosync.xmpp.resource: goes into our full JID, so no "/", no space, bounded as RFC 7622 bounds it. */
export function resourceProblem(value: string): string | null {
  if (value.length === 0 || value.length > 256 || /[\s/\x00-\x1f\x7f]/.test(value))
    return 'must be a name of 1 to 256 characters without spaces or "/", like laptop-notes';
  return null;
}

/** autosync.xmpp.service: xmpp://host[:port] (STARTTLS) or xmpps://host[:port] (direct TLS). */
export function serviceProblem(value: string): string | null {
  try {
    if (value === '') throw new Error('empty');
    parseService(value, 'example.org');
    return null;
  } catch {
    return 'must be xmpp://host:port (STARTTLS) or xmpps://host:port (direct TLS), like xmpps://example.org:5223; unset it to find the server from the domain of the JID';
  }
}
