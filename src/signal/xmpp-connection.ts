// The XMPP connection: login, keepalive and reconnect, for both transports. It waits on start(),
// on the password lookup, on the server (TCP, TLS, SASL, bind, stream management) and on its own
// timers (retry backoff, keepalive pings, deadlines). It produces one live `Conn` at a time, the
// session hooks' calls (start the session, online, each stanza, each ack, before closing), and
// `state` / `error` for status(). One @xmpp/client per attempt: no state is carried from a broken
// stream into the next. Our own reconnect loop (exponential backoff with jitter, capped) replaces
// the library's fixed 1 s retry.
import { background } from '../core/background.js';
import { randomBytes } from 'node:crypto';
import { client as xmppClient, xml, type Client, type XmlElement, type XmppSocket } from '@xmpp/client';
import type { Logger } from '../core/log.js';
import { Backoff } from '../core/backoff.js';
import { chooseMechanism, type ServiceEndpoint } from './credentials.js';
import type { SignalState, TransportKind } from './types.js';
import { describeXmppError, StepError } from './xmpp-errors.js';
import type { XmppTiming } from './xmpp-timing.js';
import { redactForLog } from './xmpp-trace.js';

export const NS_SM = 'urn:xmpp:sm:3';
const NS_STREAM = 'http://etherx.jabber.org/streams';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_PING = 'urn:xmpp:ping';

/** One connection attempt and, if it succeeds, one session. Never reused after it fails. */
export interface Conn {
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

/** What the transport does at each point of a session's life. */
export interface XmppSessionHooks {
  /** After bind and stream management: join the room / send presence. Rejects if unusable. */
  start(conn: Conn): Promise<void>;
  /** The session is up (state, backoff and keepalive already set): resend, catch up, flush. */
  online(conn: Conn): void;
  /** A stanza on the current connection, after the waiters have seen it. */
  stanza(conn: Conn, st: XmlElement): void;
  /** Stream management acknowledged one of our stanzas. */
  acked(st: XmlElement): void;
  /** Before the stream closes in stop(). */
  beforeClose(conn: Conn): Promise<void>;
}

export interface XmppConnectionDeps {
  /** The transport's kind, for the log; read when used (a subclass sets it after construction). */
  kind: () => TransportKind;
  endpoint: ServiceEndpoint;
  domain: string;
  username: string;
  bareJid: string;
  resource: string;
  /** The password, or a lookup run before every attempt (a failure is retried like the network). */
  password: string | (() => Promise<string>);
  timing: XmppTiming;
  log: Logger;
  /** Log every stanza (redacted) at debug level. */
  debug?: boolean;
  session: XmppSessionHooks;
  /** Told of every failed attempt or lost session, with its one line, before the retry is planned
   * (pairing stops at the first: a one-shot rendezvous does not wait out a wrong password). */
  attemptFailed?: (reason: string, err: unknown) => void;
}

export class XmppConnection {
  private readonly backoff: Backoff;
  private running = false;
  private current: Conn | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** For status(). */
  state: SignalState = 'offline';
  /** Why we are offline, for status(); null once online. */
  error: string | null = null;

  constructor(private readonly deps: XmppConnectionDeps) {
    this.backoff = new Backoff(deps.timing.backoffBaseMs, deps.timing.backoffMaxMs);
  }

  /** The current attempt or session, if any. */
  get conn(): Conn | null {
    return this.current;
  }

  /** Starts connecting in the background and returns; failures are retried, never thrown. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    this.scheduleAttempt(0);
  }

  /** Leaves (beforeClose), closes the stream (bounded), and stops all timers. */
  async stop(): Promise<void> {
    const { timing, session } = this.deps;
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const conn = this.current;
    this.current = null;
    this.state = 'offline';
    if (!conn) return;
    this.retire(conn, new StepError('stopped'));
    if (conn.online) {
      try {
        await withDeadline(session.beforeClose(conn), timing.stopTimeoutMs, 'leaving');
      } catch {
        // Best effort: the server drops our presence when the stream ends anyway.
      }
      await withDeadline(conn.client.stop(), timing.stopTimeoutMs, 'closing the stream').catch(() => {});
    }
    destroySocket(conn.client.socket);
    this.deps.log.info({ transport: this.deps.kind() }, 'XMPP signal transport stopped');
  }

  /** The network came back, or we woke from sleep: waiting out a backoff, try now; online, ping
   * now (a session from before a sleep can be dead without a word). */
  wake(): void {
    if (!this.running) return;
    const c = this.current;
    if (this.retryTimer) {
      this.backoff.reset();
      this.scheduleAttempt(0);
    } else if (c?.online && this.isCurrent(c)) this.ping(c);
  }

  isCurrent(conn: Conn): boolean {
    return this.current === conn && !conn.dead;
  }

  /** The single path for a connection that failed or died: record, clean up, schedule a retry. */
  failed(conn: Conn, err: unknown): void {
    if (!this.isCurrent(conn)) return;
    this.current = null;
    this.retire(conn, err);
    destroySocket(conn.client.socket);
    this.retryLater(err);
  }

  /** A keepalive ping was answered (any answer, even an error, proves the stream is alive). */
  keepaliveAnswered(conn: Conn): void {
    if (!conn.pingPending) return;
    clearTimeout(conn.pingPending.timer);
    conn.pingPending = null;
  }

  /** Waits for a stanza matching `match`, bounded by timeoutMs; rejects if the connection dies. */
  waitStanza(conn: Conn, match: (st: XmlElement) => boolean, timeoutMs: number, what: string) {
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
  async iq(conn: Conn, type: 'get' | 'set', to: string, payload: XmlElement): Promise<XmlElement> {
    const id = `gas-${randomBytes(6).toString('hex')}`;
    const reply = this.waitStanza(
      conn,
      (st) =>
        st.name === 'iq' && st.attrs.id === id && (st.attrs.type === 'result' || st.attrs.type === 'error'),
      this.deps.timing.joinTimeoutMs,
      `the answer to an iq to ${to}`,
    );
    await conn.client.send(xml('iq', { type, to, id }, payload));
    return reply;
  }

  // ---- Attempts -------------------------------------------------------------------------------

  private scheduleAttempt(delayMs: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      background(this.attempt(), this.deps.log, 'connecting to the XMPP server');
    }, delayMs);
  }

  private newConn(password: string): Conn {
    const { endpoint, timing, log } = this.deps;
    const c = xmppClient({
      service: endpoint.service,
      domain: this.deps.domain,
      resource: this.deps.resource,
      credentials: async (authenticate, mechanisms, _fast, entity) => {
        const sock = entity.socket;
        const mechanism = chooseMechanism({
          secure: entity.isSecure(),
          remoteAddress: sock?.remoteAddress ?? sock?.socket?.remoteAddress,
          offered: mechanisms,
        });
        await authenticate({ username: this.deps.username, password }, mechanism);
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
      raw?.setKeepAlive?.(true, timing.pingIntervalMs);
    });
    // 'close' is the server ending the stream, 'disconnect' the socket closing: either ends the session.
    const lost = () => {
      if (!this.isCurrent(conn)) return;
      const err = conn.lastError ?? new StepError(`connection to ${endpoint.service} closed`);
      this.failed(conn, err);
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
    if (this.deps.debug) {
      // Stanza logging at debug level; the redacted copy is only built when that level is on.
      const trace = (dir: 'in' | 'out', el: XmlElement) => {
        if (log.isLevelEnabled('debug')) {
          log.debug({ xmpp: dir, stanza: redactForLog(el) }, dir === 'in' ? 'xmpp <' : 'xmpp >');
        }
      };
      c.on('element', (el: XmlElement) => trace('in', el));
      c.on('send', (el: XmlElement) => trace('out', el));
    }
    c.streamManagement.on('ack', (st: XmlElement) => this.deps.session.acked(st));
    return conn;
  }

  private async attempt(): Promise<void> {
    const { timing, endpoint, log } = this.deps;
    if (!this.running) return;
    let password: string;
    this.state = 'connecting';
    try {
      const p = this.deps.password;
      password =
        typeof p === 'string' ? p : await withDeadline(p(), timing.connectTimeoutMs, 'credential lookup');
    } catch (e) {
      if (this.running && !this.current && !this.retryTimer) this.retryLater(e);
      return;
    }
    if (!this.running || this.current || this.retryTimer) return;
    const conn = this.newConn(password);
    this.current = conn;
    this.state = 'connecting';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StepError(
              `cannot connect to ${endpoint.service}: timed out after ${timing.connectTimeoutMs / 1000} s`,
            ),
          ),
        timing.connectTimeoutMs,
      );
    });
    deadline.catch(() => {});
    try {
      await Promise.race([this.establish(conn), deadline, conn.aborted]);
    } catch (err) {
      clearTimeout(timer);
      this.failed(conn, conn.firstError ?? err);
      return;
    }
    clearTimeout(timer);
    if (!this.isCurrent(conn)) return;
    conn.online = true;
    this.state = 'online';
    this.error = null;
    this.backoff.reset();
    conn.pingTimer = setInterval(() => this.ping(conn), timing.pingIntervalMs);
    log.info(
      {
        transport: this.deps.kind(),
        jid: conn.client.jid?.toString(),
        secure: conn.client.isSecure(),
        streamManagement: conn.client.streamManagement.enabled,
      },
      'XMPP signal transport online',
    );
    this.deps.session.online(conn);
  }

  private async establish(conn: Conn): Promise<void> {
    const started = conn.client.start();
    started.catch(() => {});
    await started;
    await this.waitForStreamManagement(conn);
    await this.deps.session.start(conn);
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
        this.deps.timing.smEnableTimeoutMs,
      );
    });
    timeout.catch(() => {});
    try {
      await Promise.race([conn.smSettledP, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records why we are offline and schedules the next attempt (if still running). */
  private retryLater(err: unknown): void {
    const reason = describeXmppError(err, {
      service: this.deps.endpoint.service,
      bareJid: this.deps.bareJid,
      resource: this.deps.resource,
    });
    this.error = reason;
    this.state = 'offline';
    this.deps.attemptFailed?.(reason, err);
    if (!this.running) return;
    const delay = this.backoff.next();
    this.deps.log.warn(
      { transport: this.deps.kind(), error: reason, attempt: this.backoff.attempts, retryInMs: delay },
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
    const { pongTimeoutMs } = this.deps.timing;
    const id = `ping-${randomBytes(6).toString('hex')}`;
    const timer = setTimeout(() => {
      conn.pingPending = null;
      this.failed(
        conn,
        new StepError(`no answer to a keepalive ping within ${pongTimeoutMs / 1000} s; reconnecting`),
      );
    }, pongTimeoutMs);
    conn.pingPending = { id, timer };
    conn.client
      .send(xml('iq', { type: 'get', to: this.deps.domain, id }, xml('ping', { xmlns: NS_PING })))
      .catch((e) => this.failed(conn, e));
  }

  private onStanza(conn: Conn, st: XmlElement): void {
    if (!this.isCurrent(conn)) return;
    for (const w of [...conn.waiters]) if (w.match(st)) w.resolve(st);
    this.deps.session.stanza(conn, st);
  }
}

/** `p`, or a StepError after `ms`; the timer never outlives the race. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  p.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StepError(`${what}: timed out after ${ms / 1000} s`)), ms);
  });
  t.catch(() => {});
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function destroySocket(s: XmppSocket | null | undefined): void {
  if (!s) return;
  try {
    if (s.socket) s.socket.destroy?.();
    else s.destroy?.();
  } catch {
    // Already closed.
  }
}
