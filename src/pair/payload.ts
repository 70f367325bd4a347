// What travels after the key exchange, sealed: the settings the offering device gives the new one,
// and the new device's answer. Sealing is ChaCha20-Poly1305 (node:crypto) with the per-direction key
// CPace's ISK gave (cpace.ts); every field is validated on receipt before anything uses it, because a
// sealed message proves who sent it, not that its content is sane.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { isValidRemoteName, isValidUuid } from '../annex/keys.js';
import { isSha } from '../git/sha.js';
import { isId, roomProblem, jidProblem, serviceProblem } from '../signal/validate.js';
import { PAIR_MESSAGE_MAX } from './channel.js';
import { concat } from './cpace.js';

/** The settings the offerer sends (interface.md, docs/pairing.md "What A sends"). */
export interface PairSettings {
  /** The repository's identity, so the new device can check it is the one meant. */
  repo: { id: string; name: string; root: string };
  /** The shared remote: its name, its URLs, and for ssh the known_hosts lines of its host. */
  remote: { name: string; urls: string[]; knownHosts?: string[] };
  /** The repository key (.git/autosync/key), 64 hex digits. */
  key: string;
  /** The XMPP settings the new device uses: the account (same-account mode), room and service. */
  xmpp: { jid?: string; room?: string; service?: string };
  /** For git-annex: the shared remote's UUID, and the group and wanted expression for the new device. */
  annex?: { remoteUuid: string; group: string; wanted: string };
}

/** The new device's answer once it applied the settings (or failed to, at a named step). */
export type ApplyOutcome = { ok: true } | { ok: false; step: string; reason: string };

/** The AEAD tag length: Poly1305's 16 bytes. */
const AUTH_TAG = 16;
/** Each key seals exactly one message (one per direction), so a fixed nonce of zeros never repeats under a key. */
const NONCE = new Uint8Array(12);
/** Version and type bytes, and a LEB128 length of up to 3 bytes, around the sealed settings. */
const FRAME_OVERHEAD = 5;
/** A remote with more URLs than this is not one a person set up; it bounds what we pass to git. */
const MAX_URLS = 16;
/** Long enough for any real URL, short enough to bound the config we write. */
const MAX_URL = 2048;
/** known_hosts lines: one per key type of one host is a handful. */
const MAX_KNOWN_HOSTS = 8;
const MAX_KNOWN_HOST_LINE = 4096;
/** A repository's display name, and an annex group: short names. */
const MAX_NAME = 100;
/** A preferred-content expression: git-annex's standard ones are well under this. */
const MAX_WANTED = 512;
/** The failing step and its reason, shown on the offering device. */
const MAX_STEP = 64;
const MAX_REASON = 400;

export class PayloadError extends Error {
  readonly code = 'pair-payload';
}

export function seal(key: Uint8Array, aad: Uint8Array, value: unknown): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, NONCE, { authTagLength: AUTH_TAG });
  c.setAAD(aad, { plaintextLength: 0 });
  const body = concat(c.update(Buffer.from(JSON.stringify(value), 'utf8')), c.final());
  return concat(body, c.getAuthTag());
}

/** Opens a sealed message; null when it does not authenticate (a wrong key, or tampered). */
export function open(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array): unknown {
  if (sealed.length <= AUTH_TAG || sealed.length > PAIR_MESSAGE_MAX) return null;
  try {
    const d = createDecipheriv('chacha20-poly1305', key, NONCE, { authTagLength: AUTH_TAG });
    d.setAAD(aad, { plaintextLength: sealed.length - AUTH_TAG });
    d.setAuthTag(sealed.subarray(sealed.length - AUTH_TAG));
    const plain = Buffer.concat([d.update(sealed.subarray(0, sealed.length - AUTH_TAG)), d.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Control, format (bidi overrides) and line/paragraph separators: never in a value we show or write. */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** The repository's name may name the new clone's directory: one path component, not hidden, not an option. */
const REPO_NAME = /^[A-Za-z0-9_][A-Za-z0-9._ -]*$/;
/** ssh://, https://, http://, git:// URLs with a host not looking like an option. */
const ALLOWED_SCHEMES = new Set(['ssh:', 'https:', 'http:', 'git:']);
/** One DNS label (RFC 1123): letters, digits, inner hyphens, at most 63; never "-" first, never "*". */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A DNS name's longest text form (RFC 1035). */
const MAX_HOST = 253;
/** The port ssh uses when a URL names none: a bare known_hosts pattern is for this port only. */
const SSH_PORT = 22;
/** scp-like ssh, [user@]host:path: user and host start with a letter or digit (never "-"). */
const SCP_LIKE = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*@)?[A-Za-z0-9][A-Za-z0-9.-]*:(?!\/\/)[^\s:][^\s]*$/;
/** One known_hosts line: host patterns, a key type, base64 key data, an optional comment. */
const KNOWN_HOST =
  /^[A-Za-z0-9.,:[\]_*?!-]+ (?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+=*(?: [^\r\n]*)?$/;
/** A git-annex group name as `git annex group` takes it: a word, never an option. */
const GROUP = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

/**
 * Why a remote URL from a peer is refused, or null. Only network URLs a shared remote can have:
 * never a local path, file://, or a transport helper ("ext::…" runs a command), never an option.
 */
export function urlProblem(url: string): string | null {
  if (url.length === 0 || url.length > MAX_URL) return 'is empty or too long';
  if (CONTROL.test(url) || /\s/.test(url)) return 'has spaces or control characters';
  if (url.startsWith('-')) return 'starts with "-"';
  // git reads "<transport>::<address>" as a remote helper ("ext::" runs a command).
  if (/^[A-Za-z0-9][A-Za-z0-9+.-]*::/.test(url)) return 'names a git transport helper';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return 'is not a URL';
    }
    if (!ALLOWED_SCHEMES.has(u.protocol)) return `has scheme ${u.protocol} (only ssh, https, http, git)`;
    // The host as git hands it to ssh or curl: a DNS name or an IP literal, nothing else (no "*",
    // "%2d…", "-o…"); an IPv6 literal only in brackets.
    const h = u.hostname;
    if (!(h.startsWith('[') ? h.endsWith(']') && isIPv6(h.slice(1, -1)) : isHost(h)))
      return 'has no host, or one that is not a DNS name or an IP address';
    if (u.port === '0') return 'has port 0';
    // git passes "user@host" to ssh as one argument: a user starting with "-" would be an option.
    let user: string;
    try {
      user = decodeURIComponent(u.username);
    } catch {
      return 'has a user name that does not decode';
    }
    if (user.startsWith('-') || CONTROL.test(user)) return 'has a user name starting with "-"';
    return null;
  }
  if (!SCP_LIKE.test(url)) return 'is neither a URL nor host:path';
  return isHost(scpHost(url)) ? null : 'has a host that is not a DNS name or an IP address';
}

/** A DNS name (labels of RFC 1123, not all digits) or an IPv4 address: no wildcard, "%", "!" or ",". */
function isHost(h: string): boolean {
  if (isIPv4(h)) return true;
  if (h.length === 0 || h.length > MAX_HOST || /^[0-9.]+$/.test(h)) return false;
  return h.split('.').every((l) => DNS_LABEL.test(l));
}

function scpHost(url: string): string {
  const hostPart = url.slice(0, url.indexOf(':'));
  return hostPart.slice(hostPart.indexOf('@') + 1);
}

/** "host port" (lower case) of each checked ssh remote URL: the hosts whose keys may come along. */
function sshHostPorts(urls: string[]): Set<string> {
  const out = new Set<string>();
  for (const url of urls) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) {
      const u = new URL(url);
      if (u.protocol !== 'ssh:') continue;
      out.add(`${u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()} ${u.port || SSH_PORT}`);
    } else out.add(`${scpHost(url).toLowerCase()} ${SSH_PORT}`);
  }
  return out;
}

/**
 * The "host port" a known_hosts pattern names, or null: `host` (port 22) or `[host]:port`, with
 * `host` a DNS name or an IP address. Wildcards (`*`, `?`), negation (`!`), lists and any other
 * bracket form are refused: they would trust the key for hosts beyond the shared remote's own.
 */
function knownHostPattern(p: string): string | null {
  const m = /^\[([^\]]+)\]:([1-9][0-9]{0,4})$/.exec(p);
  const [host, port] = m ? [m[1]!, Number(m[2])] : [p, SSH_PORT];
  if (port > 65535 || !(isHost(host) || isIPv6(host)) || host.includes('%')) return null;
  return `${host.toLowerCase()} ${port}`;
}

function str(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= max && !CONTROL.test(v);
}

function onlyKeys(o: Record<string, unknown>, keys: string[]): boolean {
  return Object.keys(o).every((k) => keys.includes(k));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The settings as received, checked field by field. Throws PayloadError naming the first bad field. */
export function validateSettings(v: unknown): PairSettings {
  const bad = (what: string): never => {
    throw new PayloadError(`the settings received are not valid: ${what}`);
  };
  if (!isObj(v) || !onlyKeys(v, ['repo', 'remote', 'key', 'xmpp', 'annex']))
    return bad('not the settings object');
  const { repo, remote, key, xmpp, annex } = v;
  if (!isObj(repo) || !onlyKeys(repo, ['id', 'name', 'root'])) return bad('repo');
  if (typeof repo.id !== 'string' || !isId(repo.id)) return bad('repo.id');
  if (!str(repo.name, MAX_NAME) || !REPO_NAME.test(repo.name)) return bad('repo.name');
  if (typeof repo.root !== 'string' || !isSha(repo.root)) return bad('repo.root');
  if (!isObj(remote) || !onlyKeys(remote, ['name', 'urls', 'knownHosts'])) return bad('remote');
  if (!isValidRemoteName(remote.name)) return bad('remote.name');
  const urls = remote.urls;
  if (!Array.isArray(urls) || urls.length < 1 || urls.length > MAX_URLS) return bad('remote.urls');
  for (const u of urls as unknown[]) if (typeof u !== 'string' || urlProblem(u)) return bad('remote.urls');
  const kh = remote.knownHosts;
  if (kh !== undefined) {
    if (!Array.isArray(kh) || kh.length > MAX_KNOWN_HOSTS) return bad('remote.knownHosts');
    const hosts = sshHostPorts(urls as string[]);
    for (const l of kh as unknown[]) {
      if (typeof l !== 'string' || l.length > MAX_KNOWN_HOST_LINE || !KNOWN_HOST.test(l))
        return bad('remote.knownHosts');
      // Host keys for the shared remote's own ssh hosts and ports only, never for any other host.
      const patterns = l.split(' ')[0]!.split(',');
      if (!patterns.every((h) => hosts.has(knownHostPattern(h) ?? ''))) return bad('remote.knownHosts');
    }
  }
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key)) return bad('key');
  if (!isObj(xmpp) || !onlyKeys(xmpp, ['jid', 'room', 'service'])) return bad('xmpp');
  if (xmpp.jid !== undefined && (typeof xmpp.jid !== 'string' || jidProblem(xmpp.jid)))
    return bad('xmpp.jid');
  if (xmpp.room !== undefined && (typeof xmpp.room !== 'string' || roomProblem(xmpp.room)))
    return bad('xmpp.room');
  if (xmpp.service !== undefined && (typeof xmpp.service !== 'string' || serviceProblem(xmpp.service)))
    return bad('xmpp.service');
  if (annex !== undefined) {
    if (!isObj(annex) || !onlyKeys(annex, ['remoteUuid', 'group', 'wanted'])) return bad('annex');
    if (!isValidUuid(annex.remoteUuid)) return bad('annex.remoteUuid');
    if (typeof annex.group !== 'string' || !GROUP.test(annex.group)) return bad('annex.group');
    if (!str(annex.wanted, MAX_WANTED) || annex.wanted.startsWith('-')) return bad('annex.wanted');
  }
  return v as unknown as PairSettings;
}

/** Whether our own settings can be offered: valid as a receiver checks them, and small enough to send. */
export function settingsProblem(s: PairSettings): string | null {
  try {
    validateSettings(JSON.parse(JSON.stringify(s)));
  } catch (e) {
    return (e as Error).message.replace('the settings received are not valid: ', '');
  }
  // The sealed settings, their frame header and length prefix must fit one message.
  const sealedBytes = Buffer.byteLength(JSON.stringify(s)) + AUTH_TAG;
  if (sealedBytes + FRAME_OVERHEAD > PAIR_MESSAGE_MAX)
    return `they take ${sealedBytes} bytes, more than one pairing message holds (remove unused URLs of the shared remote)`;
  return null;
}

/** The new device's answer as received, checked. */
export function validateOutcome(v: unknown): ApplyOutcome {
  if (isObj(v) && v.ok === true && onlyKeys(v, ['ok'])) return { ok: true };
  if (isObj(v) && v.ok === false && onlyKeys(v, ['ok', 'step', 'reason'])) {
    if (typeof v.step === 'string' && /^[a-z][a-z0-9-]{0,63}$/.test(v.step) && v.step.length <= MAX_STEP)
      if (str(v.reason, MAX_REASON)) return { ok: false, step: v.step, reason: v.reason };
  }
  throw new PayloadError('the answer received is not valid');
}
