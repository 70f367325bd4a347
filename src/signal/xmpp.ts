// The XMPP connection machinery shared by both transports: one @xmpp/client per connection attempt
// (no state carried from a broken stream into the next), our own reconnect loop (exponential
// backoff with jitter, capped), XEP-0199 keepalive pings, stream-management gating, offline
// coalescing of announcements, and inbound verification through the codec. Subclasses add only
// what differs: how a session starts (join a room / announce presence), where signals go, and
// which senders are routable at all.
import { randomBytes } from 'node:crypto';
import {
  client as xmppClient,
  jid as parseJid,
  xml,
  type Client,
  type XmlElement,
  type XmppSocket,
} from '@xmpp/client';
import { hideSensitive } from '@xmpp/debug';
import type { EventBus } from '../core/bus.js';
import type { ServiceContext } from '../core/service.js';
import { scrub, type Logger } from '../core/log.js';
import { Backoff, RECONNECT_BASE_MS, RECONNECT_MAX_MS } from '../core/backoff.js';
import {
  CLOCK_WINDOW_MS,
  encodeSignal,
  MAX_PUSHED_TO,
  MAX_REFS,
  MIN_KEY_BYTES,
  SequenceCounter,
  SIGNAL_NS,
  SignalVerifier,
} from './codec.js';
import {
  chooseMechanism,
  CredentialError,
  InsecureConnectionError,
  parseService,
  type ServiceEndpoint,
} from './credentials.js';
import type {
  PeerInfo,
  RefsAnnouncement,
  SignalHandlers,
  SignalState,
  SignalStatus,
  SignalTransport,
  TransportKind,
} from './types.js';
import { isId, isSha, refNameProblem } from './validate.js';

export const NS_SM = 'urn:xmpp:sm:3';
const NS_STREAM = 'http://etherx.jabber.org/streams';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_PING = 'urn:xmpp:ping';
const NS_HINTS = 'urn:xmpp:hints';

export interface XmppTiming {
  /** First reconnect delay; doubles per failure (with jitter) up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Keepalive ping period (XEP-0199). */
  pingIntervalMs: number;
  /** A ping unanswered this long means the stream is dead: reconnect. */
  pongTimeoutMs: number;
  /** Whole attempt (TCP, TLS, SASL, bind, SM, join) must finish in this time. */
  connectTimeoutMs: number;
  /** After bind, how long the server may take to answer <enable/>. */
  smEnableTimeoutMs: number;
  /** Room join (self-presence) deadline. */
  joinTimeoutMs: number;
  /** Graceful close deadline in stop(); the socket is destroyed after it. */
  stopTimeoutMs: number;
}

export const DEFAULT_TIMING: XmppTiming = {
  backoffBaseMs: RECONNECT_BASE_MS,
  backoffMaxMs: RECONNECT_MAX_MS,
  // 30 s: under the idle timeouts of common NATs and mobile carriers (often 60 s or more).
  pingIntervalMs: 30_000,
  // 10 s: a healthy server answers in milliseconds; a slow link in well under this.
  pongTimeoutMs: 10_000,
  // 30 s: DNS, TCP, TLS and SASL over a slow link; longer is a hung server.
  connectTimeoutMs: 30_000,
  // 10 s: the answer to <enable/> follows bind at once on a healthy server.
  smEnableTimeoutMs: 10_000,
  // 10 s: a MUC answers a join in one round trip.
  joinTimeoutMs: 10_000,
  // 3 s: enough for the server to acknowledge </stream:stream>; stop() must not hang.
  stopTimeoutMs: 3_000,
};

export interface XmppTransportOptions {
  /** The account, bare JID (alice@example.org). */
  jid: string;
  /** xmpp://host:port (STARTTLS) or xmpps://host:port (direct TLS); default: SRV of the JID's domain. */
  service?: string | null;
  /** MUC room JID; when set, room mode. */
  room?: string | null;
  /** Stable resource of this clone. */
  resource: string;
  /**
   * The password, or a lookup run before every connection attempt (e.g. () => findPassword(...)).
   * A failing lookup shows in status().error and is retried like a connection failure, so a
   * password stored later (keyring, file) is picked up without restarting the agent.
   */
  password: string | (() => Promise<string>);
  repoId: string;
  nodeId: string;
  key: Buffer;
  log: Logger;
  handlers: SignalHandlers;
  bus?: EventBus;
  /** Log every stanza (redacted) at debug level. */
  debug?: boolean;
  timing?: Partial<XmppTiming>;
}

/** A configuration the transport cannot work with at all; thrown by the constructor. */
export class SignalConfigError extends Error {
  override name = 'SignalConfigError';
}

/** A failed step of our own (timeout, join refused, keepalive lost): its message is the whole story. */
export class StepError extends Error {
  override name = 'StepError';
}

/** One connection attempt and, if it succeeds, one session. Never reused after it fails. */
interface Conn {
  client: Client;
  online: boolean;
  dead: boolean;
  smOffered: boolean | null;
  smSettled: () => void;
  smSettledP: Promise<void>;
  firstError: unknown;
  lastError: unknown;
  abort: (err: unknown) => void;
  aborted: Promise<never>;
  pingTimer: NodeJS.Timeout | null;
  pingPending: { id: string; timer: NodeJS.Timeout } | null;
  waiters: Set<StanzaWaiter>;
}

interface StanzaWaiter {
  match: (st: XmlElement) => boolean;
  resolve: (st: XmlElement) => void;
  reject: (err: unknown) => void;
}

/** Senders tracked in status().peers; bounded so a flood of valid node ids cannot grow memory. */
const MAX_PEERS = 256;
/** Rejections logged per minute at most; the rest are only counted (an attacker cannot fill the log). */
const MAX_REJECT_LOGS_PER_MIN = 10;
/**
 * Peers whose rejections get their one log line with a hint. A handful of clones share a room;
 * 32 is plenty for them and bounds what a sender inventing new nicknames can make us log.
 */
const MAX_HINTED_PEERS = 32;
/** A peer label in status and the log: the sender's nickname or resource, tamed and short. */
const MAX_PEER_LABEL = 64;

/** The sender as the room or account shows it (its resource), safe to put on one line. */
export function peerLabel(from: string | undefined): string {
  const f = from ?? '';
  const i = f.indexOf('/');
  const res = i >= 0 ? f.slice(i + 1) : f;
  return res.replace(/[^A-Za-z0-9._@-]/g, '?').slice(0, MAX_PEER_LABEL) || 'an unnamed sender';
}

/**
 * What the user should do about signals from `peer` rejected for `reason`: one line, or null
 * when there is nothing to do (a replay, an oversized or misrouted stanza: an attack or a glitch,
 * already counted). Pure, for status().hint and the once-per-peer log line.
 */
export function rejectionHint(reason: string, peer: string): string | null {
  const fix = 'copy .git/autosync/key from one clone to the other and restart both agents';
  switch (reason) {
    case 'foreign-repo':
      return `signals from ${peer} were rejected: they name another repository, so the repository keys differ (or ${peer} syncs a different repository through the same room); ${fix}`;
    case 'bad-mac':
      return `signals from ${peer} were rejected: they are not signed with this clone's key, so the repository keys differ (or someone without the key is sending); ${fix}`;
    case 'stale':
      return `signals from ${peer} were rejected: its clock and this one differ by more than ${CLOCK_WINDOW_MS / 60_000} minutes; set both clocks right (NTP)`;
    case 'malformed':
      return `signals from ${peer} were rejected as malformed: it may run an incompatible version of git-autosync; update both clones`;
    default:
      return null;
  }
}

export abstract class XmppTransport implements SignalTransport {
  abstract readonly kind: TransportKind;
  readonly name = 'signal';

  protected readonly opts: XmppTransportOptions;
  protected readonly timing: XmppTiming;
  protected readonly log: Logger;
  protected readonly endpoint: ServiceEndpoint;
  protected readonly bareJid: string;
  protected readonly domain: string;
  private readonly username: string;
  private readonly verifier: SignalVerifier;
  private readonly seq = new SequenceCounter();
  private readonly backoff: Backoff;

  private running = false;
  private conn: Conn | null = null;
  private state: SignalState = 'offline';
  private error: string | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private pending: RefsAnnouncement | null = null;
  private unacked: { announcement: RefsAnnouncement; stanzas: Set<XmlElement> } | null = null;
  private flushing = false;
  private rejected = 0;
  private readonly peers = new Map<string, number>();
  private rejectLog = { windowStart: 0, count: 0 };
  /** The last rejection, "reason from peer: detail", for status(). */
  private rejectedWhy: string | null = null;
  /** What to do about the latest rejection that has advice, for status(). */
  private hint: string | null = null;
  /** peer + reason pairs already logged with their hint. */
  private readonly hinted = new Set<string>();

  constructor(opts: XmppTransportOptions) {
    this.opts = opts;
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.log = opts.log;
    let j;
    try {
      j = parseJid(opts.jid);
    } catch {
      throw new SignalConfigError(`autosync.xmpp.jid ${JSON.stringify(opts.jid)} is not a JID`);
    }
    if (!j.local || !j.domain)
      throw new SignalConfigError(`autosync.xmpp.jid must be user@domain, got ${opts.jid}`);
    this.username = j.local;
    this.domain = j.domain;
    this.bareJid = `${j.local}@${j.domain}`;
    if (!opts.resource || /[\s/]/.test(opts.resource) || opts.resource.length > 256) {
      throw new SignalConfigError('the XMPP resource must be a non-empty name without spaces or "/"');
    }
    if (!isId(opts.repoId)) throw new SignalConfigError('repository id must match [A-Za-z0-9._-]{1,128}');
    if (!isId(opts.nodeId)) throw new SignalConfigError('node id must match [A-Za-z0-9._-]{1,128}');
    if (opts.key.length < MIN_KEY_BYTES)
      throw new SignalConfigError(`repository key must be at least ${MIN_KEY_BYTES} bytes`);
    try {
      this.endpoint = parseService(opts.service, this.domain);
    } catch (e) {
      throw new SignalConfigError(e instanceof Error ? e.message : String(e));
    }
    this.verifier = new SignalVerifier({ repoId: opts.repoId, nodeId: opts.nodeId, key: opts.key });
    this.backoff = new Backoff(this.timing.backoffBaseMs, this.timing.backoffMaxMs);
  }

  // ---- Service ------------------------------------------------------------------------------

  /** Starts connecting in the background and returns; failures are retried, never thrown. */
  async start(_ctx?: ServiceContext): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    this.scheduleAttempt(0);
  }

  /** Leaves the room / goes unavailable, closes the stream (bounded), and stops all timers. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const conn = this.conn;
    this.conn = null;
    this.state = 'offline';
    if (!conn) return;
    this.retire(conn, new StepError('stopped'));
    if (conn.online) {
      try {
        await this.withDeadline(this.beforeClose(conn), this.timing.stopTimeoutMs, 'leaving');
      } catch {
        // Best effort: the server drops our presence when the stream ends anyway.
      }
      await this.withDeadline(conn.client.stop(), this.timing.stopTimeoutMs, 'closing the stream').catch(
        () => {},
      );
    }
    destroySocket(conn.client.socket);
    this.log.info({ transport: this.kind }, 'XMPP signal transport stopped');
  }

  announce(a: RefsAnnouncement): void {
    // Coalesce: only the latest announcement matters, it supersedes any not yet sent.
    this.pending = { refs: { ...a.refs }, pushedTo: [...a.pushedTo] };
    void this.flush();
  }

  /** Message stanzas sent and verified signals accepted since start (benchmarks count per change). */
  private sent = 0;
  private accepted = 0;

  status(): SignalStatus {
    const peers: PeerInfo[] = [...this.peers.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([id, t]) => ({ id, lastSeen: new Date(t).toISOString() }));
    return {
      transport: this.kind,
      state: this.state,
      peers,
      rejected: this.rejected,
      rejectedWhy: this.rejectedWhy,
      hint: this.hint ?? this.sessionHint(),
      error: this.error,
      sent: this.sent,
      accepted: this.accepted,
    };
  }

  // ---- Subclass hooks -------------------------------------------------------------------------

  /** After bind and stream management: join the room / send presence. Rejects if unusable. */
  protected abstract startSession(conn: Conn): Promise<void>;
  /** The message stanzas that carry these signals to the peers (may be none: nobody to tell). */
  protected abstract wrap(signals: XmlElement[]): XmlElement[];
  /** Whether a message comes through the route signals use (the room / our own account). */
  protected abstract routable(st: XmlElement): boolean;
  /** Presence and non-signal messages; default: nothing. */
  protected onOtherStanza(_conn: Conn, _st: XmlElement): void {}
  /** Before the stream closes in stop(). */
  protected async beforeClose(_conn: Conn): Promise<void> {}
  /** Advice from what the session sees (not from a rejection), for status().hint; default none. */
  protected sessionHint(): string | null {
    return null;
  }

  // ---- Helpers for subclasses -----------------------------------------------------------------

  protected send(conn: Conn, el: XmlElement): Promise<void> {
    return conn.client.send(el);
  }

  /** Waits for a stanza matching `match`, bounded by timeoutMs; rejects if the connection dies. */
  protected waitStanza(conn: Conn, match: (st: XmlElement) => boolean, timeoutMs: number, what: string) {
    const p = new Promise<XmlElement>((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.waiters.delete(w);
        reject(new StepError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
      }, timeoutMs);
      const w: StanzaWaiter = {
        match,
        resolve: (st) => {
          clearTimeout(timer);
          conn.waiters.delete(w);
          resolve(st);
        },
        reject: (err) => {
          clearTimeout(timer);
          conn.waiters.delete(w);
          reject(err);
        },
      };
      conn.waiters.add(w);
    });
    // Marked handled: if the caller never gets to await it (its send failed first), a later
    // rejection must not surface as an unhandled rejection and end the process.
    p.catch(() => {});
    return p;
  }

  /** An iq request with its own deadline (the library's would keep a timer alive after stop). */
  protected async iq(conn: Conn, type: 'get' | 'set', to: string, payload: XmlElement): Promise<XmlElement> {
    const id = `gas-${randomBytes(6).toString('hex')}`;
    const reply = this.waitStanza(
      conn,
      (st) =>
        st.name === 'iq' && st.attrs.id === id && (st.attrs.type === 'result' || st.attrs.type === 'error'),
      this.timing.joinTimeoutMs,
      `the answer to an iq to ${to}`,
    );
    await this.send(conn, xml('iq', { type, to, id }, payload));
    return reply;
  }

  /** Declares the current session unusable (kicked from the room, bounced signal): reconnect. */
  protected connectionBroken(conn: Conn, why: string): void {
    this.connFailed(conn, new StepError(why));
  }

  protected isCurrent(conn: Conn): boolean {
    return this.conn === conn && !conn.dead;
  }

  // ---- Connection lifecycle -------------------------------------------------------------------

  private scheduleAttempt(delayMs: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.attempt();
    }, delayMs);
  }

  private newConn(password: string): Conn {
    const c = xmppClient({
      service: this.endpoint.service,
      domain: this.domain,
      resource: this.opts.resource,
      credentials: async (authenticate, mechanisms, _fast, entity) => {
        const sock = entity.socket;
        const mechanism = chooseMechanism({
          secure: entity.isSecure(),
          remoteAddress: sock?.remoteAddress ?? sock?.socket?.remoteAddress,
          offered: mechanisms,
        });
        await authenticate({ username: this.username, password }, mechanism);
      },
    });
    // Our own loop reconnects, with backoff; the library's fixed 1 s retry would fight it.
    c.reconnect.stop();
    let abort!: (err: unknown) => void;
    const aborted = new Promise<never>((_, reject) => (abort = reject));
    aborted.catch(() => {});
    let smSettled!: () => void;
    const smSettledP = new Promise<void>((resolve) => (smSettled = resolve));
    const conn: Conn = {
      client: c,
      online: false,
      dead: false,
      smOffered: null,
      smSettled,
      smSettledP,
      firstError: null,
      lastError: null,
      abort,
      aborted,
      pingTimer: null,
      pingPending: null,
      waiters: new Set(),
    };
    // An EventEmitter without an 'error' listener throws; errors here are recorded, then acted on
    // through the attempt's rejection or the 'disconnect' event.
    c.on('error', (err: unknown) => {
      conn.firstError ??= err;
      conn.lastError = err;
    });
    c.on('connect', () => {
      // Signals are tiny and latency is the point: no Nagle delay, and TCP keepalive underneath.
      const s = c.socket;
      const raw = s?.socket ?? s;
      raw?.setNoDelay?.(true);
      raw?.setKeepAlive?.(true, this.timing.pingIntervalMs);
    });
    // 'close' is the server ending the stream, 'disconnect' the socket closing: either ends the session.
    const lost = () => {
      if (!this.isCurrent(conn)) return;
      const err = conn.lastError ?? new StepError(`connection to ${this.endpoint.service} closed`);
      this.connFailed(conn, err);
    };
    c.on('close', lost);
    c.on('disconnect', lost);
    c.on('nonza', (el: XmlElement) => {
      if (el.is('features', NS_STREAM) && el.getChild('bind', NS_BIND)) {
        conn.smOffered = el.getChild('sm', NS_SM) !== undefined;
      } else if (el.is('enabled', NS_SM) || el.is('failed', NS_SM)) {
        // setImmediate: the library sets streamManagement.enabled in a later microtask.
        setImmediate(() => conn.smSettled());
      }
    });
    c.on('stanza', (st: XmlElement) => this.onStanza(conn, st));
    if (this.opts.debug) {
      // Stanza logging at debug level; the redacted copy is only built when that level is on.
      const trace = (dir: 'in' | 'out', el: XmlElement) => {
        if (this.log.isLevelEnabled('debug')) {
          this.log.debug({ xmpp: dir, stanza: redactForLog(el) }, dir === 'in' ? 'xmpp <' : 'xmpp >');
        }
      };
      c.on('element', (el: XmlElement) => trace('in', el));
      c.on('send', (el: XmlElement) => trace('out', el));
    }
    c.streamManagement.on('ack', (st: XmlElement) => {
      if (!this.unacked) return;
      this.unacked.stanzas.delete(st);
      if (this.unacked.stanzas.size === 0) this.unacked = null;
    });
    return conn;
  }

  private async attempt(): Promise<void> {
    if (!this.running) return;
    let password: string;
    this.state = 'connecting';
    try {
      const p = this.opts.password;
      password =
        typeof p === 'string'
          ? p
          : await this.withDeadline(p(), this.timing.connectTimeoutMs, 'credential lookup');
    } catch (e) {
      if (this.running && !this.conn && !this.retryTimer) this.retryLater(e);
      return;
    }
    if (!this.running || this.conn || this.retryTimer) return;
    const conn = this.newConn(password);
    this.conn = conn;
    this.state = 'connecting';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StepError(
              `cannot connect to ${this.endpoint.service}: timed out after ${this.timing.connectTimeoutMs / 1000} s`,
            ),
          ),
        this.timing.connectTimeoutMs,
      );
    });
    deadline.catch(() => {});
    try {
      await Promise.race([this.establish(conn), deadline, conn.aborted]);
    } catch (err) {
      clearTimeout(timer);
      this.connFailed(conn, conn.firstError ?? err);
      return;
    }
    clearTimeout(timer);
    if (!this.isCurrent(conn)) return;
    conn.online = true;
    this.state = 'online';
    this.error = null;
    this.backoff.reset();
    conn.pingTimer = setInterval(() => this.ping(conn), this.timing.pingIntervalMs);
    this.log.info(
      {
        transport: this.kind,
        jid: conn.client.jid?.toString(),
        secure: conn.client.isSecure(),
        streamManagement: conn.client.streamManagement.enabled,
      },
      'XMPP signal transport online',
    );
    // A batch the server never acknowledged may be lost: send it again unless a newer one waits.
    if (this.unacked && !this.pending) this.pending = this.unacked.announcement;
    this.unacked = null;
    try {
      this.opts.handlers.onConnected();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'onConnected handler threw');
    }
    void this.flush();
  }

  private async establish(conn: Conn): Promise<void> {
    const started = conn.client.start();
    started.catch(() => {});
    await started;
    await this.waitForStreamManagement(conn);
    await this.startSession(conn);
  }

  /**
   * With Prosody, start() resolves at bind, before <enabled/> arrives. A stanza sent in that gap is
   * counted by the client but not by the server, and the mismatched ack closes the stream in a busy
   * room. So nothing is sent until stream management is enabled, refused, or not offered.
   */
  private async waitForStreamManagement(conn: Conn): Promise<void> {
    // Only the stream-feature path sends <enable/> after bind. Not offered, or negotiated inline
    // (SASL2/bind2, where it completes before start() resolves): nothing to wait for.
    if (conn.smOffered !== true) return;
    if (conn.client.streamManagement.enabled) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StepError('the server offered stream management but never answered <enable/>')),
        this.timing.smEnableTimeoutMs,
      );
    });
    timeout.catch(() => {});
    try {
      await Promise.race([conn.smSettledP, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The single path for a connection that failed or died: record, clean up, schedule a retry. */
  private connFailed(conn: Conn, err: unknown): void {
    if (!this.isCurrent(conn)) return;
    this.conn = null;
    this.retire(conn, err);
    destroySocket(conn.client.socket);
    this.retryLater(err);
  }

  /** Records why we are offline and schedules the next attempt (if still running). */
  private retryLater(err: unknown): void {
    const reason = this.describe(err);
    this.error = reason;
    this.state = 'offline';
    if (!this.running) return;
    const delay = this.backoff.next();
    this.log.warn(
      { transport: this.kind, error: reason, attempt: this.backoff.attempts, retryInMs: delay },
      'XMPP connection failed; will retry',
    );
    this.scheduleAttempt(delay);
  }

  private retire(conn: Conn, err: unknown): void {
    conn.dead = true;
    conn.abort(err);
    if (conn.pingTimer) clearInterval(conn.pingTimer);
    if (conn.pingPending) clearTimeout(conn.pingPending.timer);
    conn.pingTimer = null;
    conn.pingPending = null;
    for (const w of [...conn.waiters]) w.reject(err);
  }

  private ping(conn: Conn): void {
    if (!this.isCurrent(conn) || conn.pingPending) return;
    const id = `ping-${randomBytes(6).toString('hex')}`;
    const timer = setTimeout(() => {
      conn.pingPending = null;
      this.connFailed(
        conn,
        new StepError(
          `no answer to a keepalive ping within ${this.timing.pongTimeoutMs / 1000} s; reconnecting`,
        ),
      );
    }, this.timing.pongTimeoutMs);
    conn.pingPending = { id, timer };
    this.send(conn, xml('iq', { type: 'get', to: this.domain, id }, xml('ping', { xmlns: NS_PING }))).catch(
      (e) => this.connFailed(conn, e),
    );
  }

  // ---- Outbound -----------------------------------------------------------------------------

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        const conn = this.conn;
        const a = this.pending;
        if (!a || !conn || !conn.online || conn.dead) return;
        this.pending = null;
        let signals: XmlElement[];
        try {
          signals = this.buildSignals(a);
        } catch (e) {
          this.log.warn({ err: String(e) }, 'announcement could not be encoded; dropped');
          continue;
        }
        try {
          const messages = await this.wrapAndDeliver(conn, signals);
          if (conn.client.streamManagement.enabled && messages.size > 0) {
            this.unacked = { announcement: a, stanzas: messages };
          }
          this.opts.bus?.emit('signalled', { direction: 'out', transport: this.kind, accepted: true });
        } catch (e) {
          // Keep it for the next session unless a newer announcement already replaced it.
          this.pending ??= a;
          this.log.warn({ err: String(e) }, 'sending a signal failed; will resend after reconnecting');
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Addresses, sends in one write, and returns the stanzas (for stream-management ack tracking). */
  private async wrapAndDeliver(conn: Conn, signals: XmlElement[]): Promise<Set<XmlElement>> {
    const messages = this.wrap(signals);
    if (messages.length > 0) await conn.client.sendMany(messages);
    this.sent += messages.length;
    return new Set(messages);
  }

  /** Validated, chunked, signed signal elements for one announcement. */
  private buildSignals(a: RefsAnnouncement): XmlElement[] {
    const refs: Array<[string, string]> = [];
    for (const [name, sha] of Object.entries(a.refs)) {
      const problem = refNameProblem(name) ?? (isSha(sha) ? null : 'SHA is not 40/64 lower-case hex');
      if (problem) this.log.warn({ ref: name.slice(0, 100), problem }, 'ref left out of the signal');
      else refs.push([name, sha]);
    }
    refs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const ids = [...new Set(a.pushedTo)].filter((id) => isId(id));
    if (ids.length > MAX_PUSHED_TO)
      this.log.warn({ count: ids.length }, 'too many pushedTo ids; extra ones left out');
    const pushedTo = ids.slice(0, MAX_PUSHED_TO);
    const chunks: Array<Array<[string, string]>> = [];
    for (let i = 0; i < refs.length; i += MAX_REFS) chunks.push(refs.slice(i, i + MAX_REFS));
    if (chunks.length === 0) chunks.push([]);
    return chunks.map((chunk) =>
      encodeSignal(
        {
          repo: this.opts.repoId,
          node: this.opts.nodeId,
          seq: this.seq.next(),
          ts: Date.now(),
          refs: Object.fromEntries(chunk),
          pushedTo,
        },
        this.opts.key,
      ),
    );
  }

  /** A message carrying one signal; hints keep it out of archives and offline storage. */
  protected message(attrs: Record<string, string>, signal: XmlElement): XmlElement {
    return xml('message', attrs, signal, xml('no-store', { xmlns: NS_HINTS }));
  }

  // ---- Inbound ------------------------------------------------------------------------------

  private onStanza(conn: Conn, st: XmlElement): void {
    if (!this.isCurrent(conn)) return;
    for (const w of [...conn.waiters]) if (w.match(st)) w.resolve(st);
    if (st.name === 'iq' && conn.pingPending && st.attrs.id === conn.pingPending.id) {
      // Any answer, even an error, proves the stream is alive.
      clearTimeout(conn.pingPending.timer);
      conn.pingPending = null;
      return;
    }
    if (st.name === 'message' && st.attrs.type !== 'error' && st.getChild('signal', SIGNAL_NS)) {
      this.onSignalMessage(st);
      return;
    }
    this.onOtherStanza(conn, st);
  }

  private onSignalMessage(st: XmlElement): void {
    if (!this.routable(st)) {
      this.count('wrong-route', 'signal from outside the room / account', st);
      return;
    }
    let verdict;
    try {
      verdict = this.verifier.check(st);
    } catch (e) {
      // The verifier is pure and total; this guards against a bug turning into a crash loop.
      this.count('malformed', `verifier error: ${String(e)}`, st);
      return;
    }
    if (verdict.kind === 'ignore') return;
    if (verdict.kind === 'reject') {
      this.count(verdict.reason, verdict.detail, st);
      return;
    }
    const now = Date.now();
    this.peers.delete(verdict.announcement.from);
    this.peers.set(verdict.announcement.from, now);
    if (this.peers.size > MAX_PEERS) {
      const oldest = this.peers.keys().next().value;
      if (oldest !== undefined) this.peers.delete(oldest);
    }
    this.accepted++;
    this.opts.bus?.emit('signalled', { direction: 'in', transport: this.kind, accepted: true });
    try {
      this.opts.handlers.onPeerRefs(verdict.announcement);
    } catch (e) {
      this.log.warn({ err: String(e) }, 'onPeerRefs handler threw');
    }
  }

  private count(reason: string, detail: string, st: XmlElement): void {
    this.rejected++;
    this.opts.bus?.emit('signalled', { direction: 'in', transport: this.kind, accepted: false, reason });
    const peer = peerLabel(st.attrs.from);
    this.rejectedWhy = `${reason} from ${peer}: ${detail.slice(0, 100)}`;
    const hint = rejectionHint(reason, peer);
    if (hint) {
      this.hint = hint;
      const key = `${peer}\0${reason}`;
      if (!this.hinted.has(key) && this.hinted.size < MAX_HINTED_PEERS) {
        this.hinted.add(key);
        this.log.warn({ transport: this.kind, peer, reason }, hint);
      }
    }
    const now = Date.now();
    if (now - this.rejectLog.windowStart > 60_000) this.rejectLog = { windowStart: now, count: 0 };
    if (++this.rejectLog.count <= MAX_REJECT_LOGS_PER_MIN) {
      this.log.warn(
        {
          transport: this.kind,
          reason,
          detail: detail.slice(0, 200),
          sender: (st.attrs.from ?? '').slice(0, 200),
        },
        'signal rejected',
      );
    }
  }

  // ---- Errors and deadlines ------------------------------------------------------------------

  /** One clear line for status().error and the log. Never contains a secret. */
  protected describe(err: unknown): string {
    const e = err as {
      name?: string;
      message?: string;
      code?: unknown;
      condition?: string;
      text?: string;
    } | null;
    const where = this.endpoint.service;
    let msg: string;
    if (e?.name === 'SASLError')
      msg = `authentication failed for ${this.bareJid}: ${e.condition ?? 'failure'}`;
    else if (
      err instanceof InsecureConnectionError ||
      err instanceof CredentialError ||
      err instanceof StepError
    ) {
      msg = err.message;
    } else if (e?.name === 'StreamError') {
      msg = `${where} closed the stream: ${e.condition ?? 'error'}${e.text ? ` (${e.text})` : ''}`;
      if (e.condition === 'conflict')
        msg += `; another client logged in as ${this.bareJid}/${this.opts.resource}`;
    } else if (
      typeof e?.code === 'string' &&
      /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|HOSTNAME|ALTNAME/.test(e.code)
    ) {
      msg = `TLS certificate of ${where} not accepted: ${e.code}`;
    } else if (typeof e?.code === 'string') msg = `cannot connect to ${where}: ${e.code}`;
    else if (e?.message) msg = `${where}: ${e.message}`;
    else msg = `${where}: ${String(err)}`;
    return scrub(msg).slice(0, 400);
  }

  protected withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    p.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StepError(`${what}: timed out after ${ms / 1000} s`)), ms);
    });
    t.catch(() => {});
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }
}

export type { Conn };

function destroySocket(s: XmppSocket | null | undefined): void {
  if (!s) return;
  try {
    if (s.socket) s.socket.destroy?.();
    else s.destroy?.();
  } catch {
    // Already closed.
  }
}

function cloneElement(el: XmlElement): XmlElement {
  return xml(
    el.name,
    { ...el.attrs },
    ...el.children.map((c) => (typeof c === 'string' ? c : cloneElement(c))),
  );
}

/**
 * Stanza text for the debug log: SASL payloads hidden, signal MACs removed, the room password
 * (in a join presence or the room's configuration form) replaced, scrubbed, bounded.
 */
export function redactForLog(el: XmlElement): string {
  const copy = hideSensitive(cloneElement(el));
  const strip = (e: XmlElement): void => {
    if (e.is('signal', SIGNAL_NS))
      e.children = e.children.filter((c) => typeof c === 'string' || c.name !== 'mac');
    if (e.name === 'password' || (e.name === 'field' && e.attrs.var === 'muc#roomconfig_roomsecret')) {
      e.children = e.name === 'field' ? [xml('value', {}, '[redacted]')] : ['[redacted]'];
      return;
    }
    for (const c of e.children) if (typeof c !== 'string') strip(c);
  };
  strip(copy);
  // 4 KiB: enough to debug any real signal; a 1 MB junk stanza must not become a 1 MB log line.
  return scrub(copy.toString()).slice(0, 4096);
}
