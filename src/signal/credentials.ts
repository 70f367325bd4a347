// Credentials and connection security for XMPP. Where the password comes from (env, a private
// file, the OS keyring, in that order), how it is stored, and the one policy that decides whether a
// connection may authenticate at all: TLS with a verified certificate, or plaintext to loopback only.
// Nothing here logs or returns a secret inside an error message. Messages avoid the word
// "password" followed by a space: core/log.ts scrub() would redact the next word as if it were one.
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { secretEnv, type SecretEnvName } from '../git/runner.js';
import { writeFileAtomic } from '../core/files.js';

export const PASSWORD_ENV = 'GIT_AUTOSYNC_XMPP_PASSWORD' satisfies SecretEnvName;
export const KEYRING_SERVICE = 'git-autosync';
/** A password file is a few bytes; anything large is the wrong file and is not read into memory. */
const MAX_PASSWORD_FILE = 4096;
/** A keyring daemon that does not answer in this time is treated as absent, not waited on. */
const KEYRING_TIMEOUT_MS = 5_000;

export class CredentialError extends Error {
  override name = 'CredentialError';
}

export type PasswordSource = 'env' | 'file' | 'keyring';

/** The OS keyring, abstracted so tests (and headless hosts) can stand in for it. */
export interface Keyring {
  /** The stored password, null if there is none; throws KeyringUnavailableError if no keyring. */
  get(service: string, account: string): Promise<string | null>;
  set(service: string, account: string, password: string): Promise<void>;
}

export class KeyringUnavailableError extends Error {
  override name = 'KeyringUnavailableError';
}

export interface PasswordLookup {
  jid: string;
  passwordFile?: string | null;
  /** Where to look for GIT_AUTOSYNC_XMPP_PASSWORD. Default: the value the program was started with
   * (runner.ts takeSecretEnv moved it out of process.env, so that no child inherits it). */
  env?: NodeJS.ProcessEnv;
  /** Defaults to the OS keyring through @napi-rs/keyring; null skips the keyring. */
  keyring?: Keyring | null;
}

/**
 * Finds the password: env GIT_AUTOSYNC_XMPP_PASSWORD, then the password file, then the keyring.
 * A password file that exists but is unsafe is an error, not a fall-through: the user configured it.
 */
export async function findPassword(q: PasswordLookup): Promise<{ password: string; source: PasswordSource }> {
  const fromEnv = q.env ? q.env[PASSWORD_ENV] : secretEnv(PASSWORD_ENV);
  if (fromEnv) return { password: fromEnv, source: 'env' };
  if (q.passwordFile) return { password: readPasswordFile(q.passwordFile), source: 'file' };
  const keyring = q.keyring === undefined ? osKeyring : q.keyring;
  let note = '';
  if (keyring) {
    try {
      const p = await keyring.get(KEYRING_SERVICE, q.jid);
      if (p) return { password: p, source: 'keyring' };
      note = '; the OS keyring has no entry for it';
    } catch (e) {
      note = `; the OS keyring is not available (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  throw new CredentialError(
    `${q.jid} has no XMPP password; set ${PASSWORD_ENV}, or autosync.xmpp.passwordFile (mode 0600), ` +
      `or store it in the OS keyring (service "${KEYRING_SERVICE}", account "${q.jid}")${note}`,
  );
}

/** Reads a password file, refusing one that group or others can read (mode & 0o077). */
export function readPasswordFile(path: string): string {
  let fd: number;
  try {
    // O_NOFOLLOW: the mode we check must be the mode of the file we read, not of a link's target.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CredentialError(`cannot read ${path} (autosync.xmpp.passwordFile): ${code}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CredentialError(`${path} (autosync.xmpp.passwordFile) is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new CredentialError(
        `${path} (autosync.xmpp.passwordFile) is readable by group or others (mode ${mode}); run: chmod 600 ${path}`,
      );
    }
    if (st.size > MAX_PASSWORD_FILE)
      throw new CredentialError(`${path} (autosync.xmpp.passwordFile) is too large to hold a password`);
    const buf = Buffer.alloc(MAX_PASSWORD_FILE + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    // One trailing newline is what editors and `echo` add; it is not part of the password.
    const text = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (text.length === 0) throw new CredentialError(`${path} (autosync.xmpp.passwordFile) is empty`);
    return text;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a password file with mode 0600, atomically: a temp file created 0600 in the same
 * directory (so the secret is never readable, even briefly), fsynced, then renamed into place.
 */
export function writePasswordFile(path: string, password: string): void {
  if (password.length === 0) throw new CredentialError('refusing to store an empty password');
  writeFileAtomic(path, `${password}\n`, { mode: 0o600, fsync: true });
}

/** The OS keyring via @napi-rs/keyring, loaded lazily: a host without it still runs. */
export const osKeyring: Keyring = {
  async get(service, account) {
    const entry = await keyringEntry(service, account);
    try {
      const p = await entry.getPassword(AbortSignal.timeout(KEYRING_TIMEOUT_MS));
      return p ?? null;
    } catch (e) {
      if (isNoEntry(e)) return null;
      throw new KeyringUnavailableError(describeKeyringError(e));
    }
  },
  async set(service, account, password) {
    const entry = await keyringEntry(service, account);
    try {
      await entry.setPassword(password, AbortSignal.timeout(KEYRING_TIMEOUT_MS));
    } catch (e) {
      throw new KeyringUnavailableError(describeKeyringError(e));
    }
  },
};

interface AsyncEntryLike {
  getPassword(signal?: AbortSignal): Promise<string | undefined>;
  setPassword(password: string, signal?: AbortSignal): Promise<void>;
}

async function keyringEntry(service: string, account: string): Promise<AsyncEntryLike> {
  try {
    const mod = (await import('@napi-rs/keyring')) as {
      AsyncEntry: new (service: string, account: string) => AsyncEntryLike;
    };
    return new mod.AsyncEntry(service, account);
  } catch (e) {
    throw new KeyringUnavailableError(describeKeyringError(e));
  }
}

function isNoEntry(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /no ?entry|no matching entry|not found/i.test(msg);
}

/** First line of the keyring library's message, cut short: it names the platform failure only. */
function describeKeyringError(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n')[0] ?? 'unknown error').slice(0, 200);
}

// ---- Connection security -------------------------------------------------------------------

export interface ServiceEndpoint {
  /** What @xmpp/client is given: the URI, or the bare domain for an SRV lookup. */
  service: string;
  protocol: 'xmpp:' | 'xmpps:' | 'srv';
  host: string;
  port: number | null;
}

export class InsecureConnectionError extends Error {
  override name = 'InsecureConnectionError';
}

/**
 * Parses autosync.xmpp.service. xmpp://host[:port] is STARTTLS, xmpps://host[:port] is direct TLS;
 * without a service the JID's domain is resolved through SRV records, as clients usually do.
 * Anything else (websocket, paths, user info) is refused: it is a configuration error.
 */
export function parseService(service: string | undefined | null, domain: string): ServiceEndpoint {
  if (!service) return { service: domain, protocol: 'srv', host: domain, port: null };
  let u: URL;
  try {
    u = new URL(service);
  } catch {
    throw new CredentialError(
      `autosync.xmpp.service ${JSON.stringify(service)} is not a URI like xmpp://host:5222`,
    );
  }
  if (u.protocol !== 'xmpp:' && u.protocol !== 'xmpps:') {
    throw new CredentialError(
      `autosync.xmpp.service must start with xmpp:// (STARTTLS) or xmpps:// (direct TLS), not ${u.protocol}//`,
    );
  }
  if (u.username || u.password || (u.pathname && u.pathname !== '/') || u.search || u.hash) {
    throw new CredentialError(
      'autosync.xmpp.service must be xmpp://host:port or xmpps://host:port, nothing more',
    );
  }
  if (!u.hostname) throw new CredentialError('autosync.xmpp.service has no host');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    service: `${u.protocol}//${u.host}`,
    protocol: u.protocol,
    host,
    port: u.port ? Number(u.port) : null,
  };
}

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped loopback) and the name localhost. */
export function isLoopbackHost(host: string | undefined | null): boolean {
  if (!host) return false;
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === 'localhost.') return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Picks the SASL mechanism, or refuses to authenticate. Over TLS: SCRAM-SHA-1 if offered, else
 * PLAIN. Without TLS: only when the peer address is loopback, and then PLAIN explicitly (the
 * library would otherwise pick SCRAM, and the test servers accept PLAIN there). Without TLS to
 * anything else: refused, so a password never crosses a network in the clear.
 */
export function chooseMechanism(opts: {
  secure: boolean;
  remoteAddress: string | undefined;
  offered: string[];
}): string {
  const has = (m: string) => opts.offered.includes(m);
  if (opts.secure) {
    if (has('SCRAM-SHA-1')) return 'SCRAM-SHA-1';
    if (has('PLAIN')) return 'PLAIN';
  } else {
    if (!isLoopbackHost(opts.remoteAddress)) {
      throw new InsecureConnectionError(
        `refusing to authenticate without TLS to ${opts.remoteAddress ?? 'an unknown address'}: ` +
          'the server offered no STARTTLS; plaintext is allowed only on loopback',
      );
    }
    if (has('PLAIN')) return 'PLAIN';
    if (has('SCRAM-SHA-1')) return 'SCRAM-SHA-1';
  }
  throw new InsecureConnectionError(
    `server offers no supported SASL mechanism (offered: ${opts.offered.join(', ')})`,
  );
}
