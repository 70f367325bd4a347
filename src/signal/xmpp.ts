// The XMPP signal transport shared by both modes; it composes the parts and holds no machinery of
// its own. It waits on the agent (start, announce, stop, status) and on its parts; it produces
// what they produce: signals sent to the peers (outbox), verified peer announcements for
// handlers.onPeerRefs (inbox), handlers.onConnected after every (re)connect, and status(). With a
// mapOutbox (map-outbox.ts) it also waits on its wake-up and hands what the map wrote to the outbox.
//   xmpp-connection.ts  login, keepalive, reconnect with backoff, stanza waiters and iq
//   xmpp-outbox.ts      what is sent: coalescing, validation, chunking, signing, resend after loss
//   xmpp-inbox.ts       what is received: routing, verification, peers, rejections and their hints
//   xmpp-errors.ts      the typed errors, and the one line status().error shows for a failure
//   xmpp-trace.ts       the redacted stanza text of the debug log
//   xmpp-timing.ts      every timeout and period, with why it has its value
// Subclasses add only what differs: how a session starts (join a room, room.ts / announce
// presence, account.ts), where signals go, and which senders are routable at all.
import { background } from '../core/background.js';
import { jid as parseJid, type XmlElement } from '@xmpp/client';
import type { EventBus } from '../core/bus.js';
import type { ServiceContext } from '../core/service.js';
import type { Logger } from '../core/log.js';
import { MIN_KEY_BYTES } from './codec.js';
import { parseService, type ServiceEndpoint } from './credentials.js';
import type {
  KeyPlan,
  OwnEdges,
  RefsAnnouncement,
  SignalHandlers,
  SignalStatus,
  SignalTransport,
  TransportKind,
} from './types.js';
import { isId } from './validate.js';
import { XmppConnection, type Conn } from './xmpp-connection.js';
import { DEFAULT_TIMING, type XmppTiming } from './xmpp-timing.js';
import { SignalConfigError, StepError } from './xmpp-errors.js';
import { Inbox, routeStanza } from './xmpp-inbox.js';
import { Outbox, signalMessage } from './xmpp-outbox.js';
import type { MapOutbox } from './map-outbox.js';

export { NS_SM, type Conn } from './xmpp-connection.js';
export { DEFAULT_TIMING, type XmppTiming } from './xmpp-timing.js';
export { SignalConfigError, StepError } from './xmpp-errors.js';
export { peerLabel, rejectionHint } from './xmpp-inbox.js';
export { redactForLog } from './xmpp-trace.js';

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
  /** The network map's edges and plans to send (annex mode), drained while we run. */
  mapOutbox?: MapOutbox;
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
  private readonly connection: XmppConnection;
  private readonly outbox: Outbox;
  private readonly inbox: Inbox;
  /** The loop draining opts.mapOutbox, while started. */
  private mapDrain: Promise<void> | null = null;
  private stopped = true;

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
    // The subclass sets `kind` after this constructor returns, so the parts read it when they use it.
    const kind = () => this.kind;
    const { repoId, nodeId, key, bus } = opts;
    this.connection = new XmppConnection({
      kind,
      endpoint: this.endpoint,
      domain: this.domain,
      username: j.local,
      bareJid: this.bareJid,
      resource: opts.resource,
      password: opts.password,
      timing: this.timing,
      log: this.log,
      debug: opts.debug,
      session: {
        start: (conn) => this.startSession(conn),
        online: () => this.online(),
        stanza: (conn, st) => this.onStanza(conn, st),
        acked: (st) => this.outbox.acked(st),
        beforeClose: (conn) => this.beforeClose(conn),
      },
    });
    this.outbox = new Outbox({
      kind,
      repoId,
      nodeId,
      key,
      log: this.log,
      bus,
      conn: () => this.connection.conn,
      wrap: (signals) => this.wrap(signals),
    });
    this.inbox = new Inbox({
      kind,
      repoId,
      nodeId,
      key,
      log: this.log,
      bus,
      handlers: opts.handlers,
      routable: (st) => this.routable(st),
      newPeer: () => this.outbox.peerJoined(),
    });
  }

  // ---- Service ------------------------------------------------------------------------------

  /** Starts connecting in the background and returns; failures are retried, never thrown. */
  async start(_ctx?: ServiceContext): Promise<void> {
    this.stopped = false;
    this.connection.start();
    const box = this.opts.mapOutbox;
    if (box && !this.mapDrain) this.mapDrain = this.drainMap(box);
  }

  /** Leaves the room / goes unavailable, closes the stream (bounded), and stops all timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.mapOutbox?.wake.interrupt();
    await this.mapDrain;
    this.mapDrain = null;
    await this.connection.stop();
  }

  announce(a: RefsAnnouncement): void {
    this.outbox.announce(a);
  }

  announceEdges(e: OwnEdges): void {
    this.outbox.announceEdges(e);
  }

  announcePlan(p: KeyPlan): void {
    this.outbox.announcePlan(p);
  }

  /** The network came back or we woke: reconnect now rather than after the backoff. */
  wake(): void {
    this.connection.wake();
  }

  status(): SignalStatus {
    const inbox = this.inbox.status();
    return {
      transport: this.kind,
      state: this.connection.state,
      peers: inbox.peers,
      rejected: inbox.rejected,
      rejectedWhy: inbox.rejectedWhy,
      hint: inbox.hint ?? this.sessionHint(),
      error: this.connection.error,
      sent: this.outbox.sent,
      accepted: inbox.accepted,
      edgesAccepted: inbox.edgesAccepted,
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
    return this.connection.waitStanza(conn, match, timeoutMs, what);
  }

  /** An iq request with its own deadline (the library's would keep a timer alive after stop). */
  protected iq(conn: Conn, type: 'get' | 'set', to: string, payload: XmlElement): Promise<XmlElement> {
    return this.connection.iq(conn, type, to, payload);
  }

  /** Declares the current session unusable (kicked from the room, bounced signal): reconnect. */
  protected connectionBroken(conn: Conn, why: string): void {
    this.connection.failed(conn, new StepError(why));
  }

  protected isCurrent(conn: Conn): boolean {
    return this.connection.isCurrent(conn);
  }

  /** A message carrying one signal; hints keep it out of archives and offline storage. */
  protected message(attrs: Record<string, string>, signal: XmlElement): XmlElement {
    return signalMessage(attrs, signal);
  }

  /** The current connection attempt or session (tests break its socket to simulate a lost link). */
  protected get conn(): Conn | null {
    return this.connection.conn;
  }

  // ---- Composition ----------------------------------------------------------------------------

  private online(): void {
    this.outbox.reconnected();
    try {
      this.opts.handlers.onConnected();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'onConnected handler threw');
    }
    background(this.outbox.flush(), this.log, 'sending the refs announcement');
  }

  /** What the map wrote goes to the outbox, which sends it when (and again after) it is connected. */
  private async drainMap(box: MapOutbox): Promise<void> {
    while (!this.stopped) {
      await box.wake.wait();
      if (this.stopped) return;
      const { edges, plans } = box.take();
      if (edges) this.outbox.announceEdges(edges);
      for (const p of plans) this.outbox.announcePlan(p);
    }
  }

  private onStanza(conn: Conn, st: XmlElement): void {
    switch (routeStanza(st, conn.pingPending?.id ?? null)) {
      case 'keepalive':
        this.connection.keepaliveAnswered(conn);
        return;
      case 'signal':
        this.inbox.receive(st);
        return;
      case 'edges':
        this.inbox.receiveEdges(st);
        return;
      case 'plan':
        this.inbox.receivePlan(st);
        return;
      case 'other':
        this.onOtherStanza(conn, st);
    }
  }
}
