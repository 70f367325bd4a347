// The XMPP rendezvous: a PairChannel between the two devices, through nothing but the XMPP server
// (both may be behind NAT). It reuses the signal transport's connection (signal/xmpp-connection.ts)
// with a resource of its own, and stops at the first failed attempt instead of retrying.
//   waits on: the server (login, presence, the room join), the other device's presence and
//             messages, and its own deadlines (connect, find the offer, each receive).
//   produces: a PairChannel carrying base64 frames in <pair xmlns=NS_PAIR> elements, or a
//             ChannelError (login, unreachable, timeout, crowded, closed, oversized).
// Two modes (docs/pairing.md "The rendezvous"):
//   - same account: both devices log in to one account; the offerer's presence carries
//     <offer nameplate=N/>, the accepter finds it among the account's resources and then messages
//     go full JID to full JID. A message from any other resource is a third participant;
//   - room: a temporary, unlisted, non-persistent room named after the public nameplate only
//     (autosync-pair-<N>@<muc>). A third occupant burns the offer; our own messages, echoed back by
//     the room, are dropped by our occupant nick.
// Nothing from a stanza becomes a path, option or URL: a frame is opaque bytes for protocol.ts.
import { randomBytes } from 'node:crypto';
import { jid as parseJid, xml, type XmlElement } from '@xmpp/client';
import type { Logger } from '../core/log.js';
import { parseService } from '../signal/credentials.js';
import { XmppConnection, withDeadline, type Conn } from '../signal/xmpp-connection.js';
import { DEFAULT_TIMING, type XmppTiming } from '../signal/xmpp-timing.js';
import { ChannelError, PAIR_MESSAGE_MAX, type ChannelFailure, type PairChannel } from './channel.js';
import { pairRoomFields } from './room-config.js';

export const NS_PAIR = 'urn:git-autosync:pair:1';
const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const NS_HINTS = 'urn:xmpp:hints';
/** base64 of PAIR_MESSAGE_MAX bytes: a longer text is refused before it is decoded. */
const MAX_B64 = Math.ceil(PAIR_MESSAGE_MAX / 3) * 4;
/** Frames buffered before the protocol reads them: a run has three per side; more is a flood. */
const MAX_QUEUED = 8;
/** Random hex in our resource / nick: unguessable, so nobody takes our place, and never the code. */
const RANDOM_HEX = 12;
/** Negative: a message to the bare JID never reaches a pairing resource (RFC 6121 8.5.2). */
const PRESENCE_PRIORITY = '-1';

export type RendezvousMode = { kind: 'account' } | { kind: 'room'; room: string };

export interface RendezvousOptions {
  role: 'offer' | 'accept';
  nameplate: number;
  /** The account this device logs in with (bare JID), its service and password. */
  jid: string;
  service?: string | null;
  password: string;
  mode: RendezvousMode;
  log: Logger;
  /** How long the accepter looks for the offer (same account) or the offerer in the room. */
  findTimeoutMs: number;
  timing?: Partial<XmppTiming>;
  /** Log every stanza (redacted as the agent's are) at debug level: tests check what crosses. */
  debug?: boolean;
}

/** The room of an offer: named after the public nameplate only, never after the secret words. */
export function pairRoom(nameplate: number, mucDomain: string): string {
  return `autosync-pair-${nameplate}@${mucDomain}`.toLowerCase();
}

/** A frame from a stanza's <pair/> text: strict base64, bounded; null when it is not one. */
export function frameOf(st: XmlElement): Uint8Array | 'oversized' | null {
  const el = st.getChild('pair', NS_PAIR);
  if (!el) return null;
  const text = el.text();
  if (text.length > MAX_B64) return 'oversized';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0 || text.length === 0) return null;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length > PAIR_MESSAGE_MAX) return 'oversized';
  return Uint8Array.from(bytes);
}

function bare(j: string | undefined): string {
  if (!j) return '';
  const at = j.indexOf('/');
  return (at < 0 ? j : j.slice(0, at)).toLowerCase();
}

/** Opens the rendezvous: resolves once the other device is found (accepter) or we are listed (offerer). */
export async function openRendezvous(o: RendezvousOptions): Promise<PairChannel> {
  const r = new Rendezvous(o);
  try {
    await r.open();
  } catch (e) {
    await r.close();
    throw e;
  }
  return r;
}

class Rendezvous implements PairChannel {
  private readonly connection: XmppConnection;
  private readonly timing: XmppTiming;
  private readonly bareJid: string;
  private readonly resource = `pair-${randomBytes(RANDOM_HEX / 2).toString('hex')}`;
  private conn: Conn | null = null;
  /** The other device: its full JID (same account) or occupant JID (room); null until found. */
  private peer: string | null = null;
  private readonly queue: Uint8Array[] = [];
  private failure: { failure: ChannelFailure; why: string } | null = null;
  private wake: (() => void) | null = null;
  private up!: { resolve: () => void; reject: (e: unknown) => void };
  private found: (() => void) | null = null;
  private closed = false;

  constructor(private readonly o: RendezvousOptions) {
    this.timing = { ...DEFAULT_TIMING, ...o.timing };
    const j = parseJid(o.jid);
    this.bareJid = `${j.local}@${j.domain}`.toLowerCase();
    this.connection = new XmppConnection({
      kind: () => (o.mode.kind === 'room' ? 'xmpp-room' : 'xmpp-account'),
      endpoint: parseService(o.service, j.domain),
      domain: j.domain,
      username: j.local,
      bareJid: this.bareJid,
      resource: this.resource,
      password: o.password,
      timing: this.timing,
      log: o.log,
      debug: o.debug,
      session: {
        start: (conn) => this.startSession(conn),
        online: () => this.up.resolve(),
        stanza: (conn, st) => this.onStanza(conn, st),
        acked: () => {},
        beforeClose: (conn) => this.leave(conn),
      },
      attemptFailed: (reason, err) => this.lost(reason, err),
    });
  }

  private get occupant(): string {
    return this.o.mode.kind === 'room' ? `${this.o.mode.room}/${this.resource}` : '';
  }

  async open(): Promise<void> {
    const online = new Promise<void>((resolve, reject) => (this.up = { resolve, reject }));
    online.catch(() => {});
    this.connection.start();
    await online;
    this.conn = this.connection.conn;
    // The accepter needs the other device before it can say hello; the offerer waits in receive().
    if (this.o.role === 'accept' && !this.peer) {
      const seen = new Promise<void>((resolve) => (this.found = resolve));
      await withDeadline(seen, this.o.findTimeoutMs, 'looking for the offer').catch(() => {
        throw new ChannelError(`no device offers nameplate ${this.o.nameplate} here`, 'timeout');
      });
    }
    this.fail0();
  }

  /** A failure already recorded (a crowded room at join time) ends open() too. */
  private fail0(): void {
    if (this.failure && this.failure.failure !== 'closed')
      throw new ChannelError(this.failure.why, this.failure.failure);
  }

  /** The connection failed (before or after we were online): a rendezvous does not retry. */
  private lost(reason: string, err: unknown): void {
    const login = (err as { name?: string } | null)?.name === 'SASLError';
    const e = new ChannelError(reason, login ? 'login' : 'unreachable');
    this.up?.reject(e);
    this.setFailure(e.failure, reason);
    void this.connection.stop().catch(() => {});
  }

  private async startSession(conn: Conn): Promise<void> {
    if (this.o.mode.kind === 'account') {
      // Our presence goes to the account's other resources; the server answers with theirs.
      const marker =
        this.o.role === 'offer'
          ? xml('offer', { xmlns: NS_PAIR, nameplate: String(this.o.nameplate) })
          : xml('accept', { xmlns: NS_PAIR });
      await conn.client.send(
        xml('presence', {}, xml('show', {}, 'xa'), xml('priority', {}, PRESENCE_PRIORITY), marker),
      );
      return;
    }
    await this.joinRoom(conn, this.o.mode.room);
  }

  private async joinRoom(conn: Conn, room: string): Promise<void> {
    const joined = this.connection.waitStanza(
      conn,
      (st) =>
        st.name === 'presence' &&
        bare(st.attrs.from) === room &&
        (st.attrs.type === 'error' || (st.attrs.from === this.occupant && st.attrs.type !== 'unavailable')),
      this.timing.joinTimeoutMs,
      `joining room ${room}`,
    );
    await conn.client.send(
      xml(
        'presence',
        { to: this.occupant },
        xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' })),
      ),
    );
    const st = await joined;
    if (st.attrs.type === 'error') {
      const cond = st.getChild('error')?.children.find((c) => typeof c !== 'string') as
        XmlElement | undefined;
      throw new ChannelError(`the room ${room} refused us: ${cond?.name ?? 'error'}`, 'unreachable');
    }
    const codes = (st.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => s.attrs.code);
    const created = codes.includes('201');
    if (this.o.role === 'offer') {
      // An existing room is someone else's offer with the same nameplate: never share it.
      if (!created) throw new ChannelError(`the room ${room} is in use`, 'crowded');
      await this.configureRoom(conn, room);
    } else if (created) {
      // We made the room: nobody offers here. Leave it destroyed behind us.
      this.setFailure('timeout', `no device offers nameplate ${this.o.nameplate} in ${room}`);
    }
  }

  /**
   * The offer's room: temporary, unlisted, not members-only (the code, not a list, admits). The
   * form is read first and only the fields it has are submitted (src/pair/room-config.ts).
   */
  private async configureRoom(conn: Conn, room: string): Promise<void> {
    const owner = (...children: XmlElement[]) => xml('query', { xmlns: NS_MUC_OWNER }, ...children);
    const current = await this.connection.iq(conn, 'get', room, owner());
    const form =
      current.attrs.type === 'result' ? current.getChild('query')?.getChild('x', NS_DATA) : undefined;
    const offered = form ? new Set(form.getChildren('field').map((f) => String(f.attrs.var ?? ''))) : null;
    const field = (v: string, val: string) => xml('field', { var: v }, xml('value', {}, val));
    const submit = xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'),
      ...pairRoomFields(offered).map(([v, val]) => field(v, val)),
    );
    const answer = await this.connection.iq(conn, 'set', room, owner(submit));
    if (answer.attrs.type !== 'result') {
      const cond = answer.getChild('error')?.children.find((c) => typeof c !== 'string') as
        XmlElement | undefined;
      throw new ChannelError(
        `the MUC service would not configure ${room} (${cond?.name ?? 'error'})`,
        'unreachable',
      );
    }
  }

  private onStanza(_conn: Conn, st: XmlElement): void {
    if (this.closed) return;
    const from = st.attrs.from as string | undefined;
    if (!from) return;
    if (this.o.mode.kind === 'account') this.onAccountStanza(st, from);
    else this.onRoomStanza(st, from, this.o.mode.room);
  }

  private onAccountStanza(st: XmlElement, from: string): void {
    // Only our own account's other resources take part; anything else is not pairing traffic.
    if (bare(from) !== this.bareJid || from.endsWith(`/${this.resource}`)) return;
    if (st.name === 'presence') {
      if (st.attrs.type === 'unavailable' && from === this.peer)
        this.setFailure('closed', 'the other device left');
      const offer = st.getChild('offer', NS_PAIR);
      if (
        this.o.role === 'accept' &&
        !this.peer &&
        st.attrs.type === undefined &&
        offer?.attrs.nameplate === String(this.o.nameplate)
      )
        this.setPeer(from);
      return;
    }
    if (st.name === 'message' && st.attrs.type !== 'error') this.onFrame(st, from);
  }

  private onRoomStanza(st: XmlElement, from: string, room: string): void {
    if (bare(from) !== room || from === room) return;
    // Our own messages and presence, echoed by the room, never reach the state machine.
    if (from === this.occupant) return;
    if (st.name === 'presence') {
      if (st.attrs.type === 'unavailable') {
        if (from === this.peer) this.setFailure('closed', 'the other device left the room');
      } else if (st.attrs.type !== 'error') {
        if (!this.peer) this.setPeer(from);
        else if (from !== this.peer) this.setFailure('crowded', 'a third participant joined the room');
      }
      return;
    }
    if (st.name === 'message' && st.attrs.type === 'groupchat') this.onFrame(st, from);
  }

  private setPeer(who: string): void {
    this.peer = who;
    this.found?.();
    this.found = null;
  }

  private onFrame(st: XmlElement, from: string): void {
    const frame = frameOf(st);
    if (frame === null) return;
    // Same account, offerer: the first sender is the device; any other one is a third participant.
    if (!this.peer && this.o.mode.kind === 'account' && this.o.role === 'offer') this.peer = from;
    if (from !== this.peer) {
      this.setFailure('crowded', 'a third device sent a pairing message');
      return;
    }
    if (frame === 'oversized') this.setFailure('oversized', 'a message larger than pairing allows');
    else if (this.queue.length >= MAX_QUEUED) this.setFailure('oversized', 'too many messages');
    else this.queue.push(frame);
    this.wake?.();
  }

  private setFailure(failure: ChannelFailure, why: string): void {
    // The first cause stays: a crowded room that then closes was crowded.
    this.failure ??= { failure, why };
    this.wake?.();
    this.found?.();
    this.found = null;
  }

  async send(msg: Uint8Array): Promise<void> {
    const conn = this.conn;
    if (this.closed || !conn || !this.peer) throw new ChannelError('the rendezvous is not open', 'closed');
    if (msg.length > PAIR_MESSAGE_MAX) throw new ChannelError('message too large', 'oversized');
    const body = xml('pair', { xmlns: NS_PAIR }, Buffer.from(msg).toString('base64'));
    // Kept out of archives and offline storage: a pairing message is only news while both are here.
    const hints = [xml('no-store', { xmlns: NS_HINTS }), xml('no-copy', { xmlns: NS_HINTS })];
    const id = `pair-${randomBytes(6).toString('hex')}`;
    const el =
      this.o.mode.kind === 'room'
        ? xml('message', { to: this.o.mode.room, type: 'groupchat', id }, body, ...hints)
        : xml('message', { to: this.peer, type: 'normal', id }, body, ...hints);
    try {
      await conn.client.send(el);
    } catch (e) {
      throw new ChannelError(`sending failed: ${(e as Error).message}`, 'unreachable');
    }
  }

  async receive(timeoutMs: number): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.failure;
      // A left peer's last messages are still read; every other failure ends the run at once.
      if (f && f.failure !== 'closed') throw new ChannelError(f.why, f.failure);
      const next = this.queue.shift();
      if (next) return next;
      if (f) throw new ChannelError(f.why, f.failure);
      if (this.closed) throw new ChannelError('the rendezvous is closed', 'closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new ChannelError('no answer in time', 'timeout');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = null;
    }
  }

  /** The offerer destroys its room (an owner may); the accepter just leaves. Bounded by stop(). */
  private async leave(conn: Conn): Promise<void> {
    if (this.o.mode.kind !== 'room') return;
    const room = this.o.mode.room;
    if (this.o.role === 'offer' || this.failure?.failure === 'timeout') {
      await this.connection
        .iq(conn, 'set', room, xml('query', { xmlns: NS_MUC_OWNER }, xml('destroy', {})))
        .catch(() => undefined);
    }
    await conn.client.send(xml('presence', { to: this.occupant, type: 'unavailable' })).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    await this.connection.stop();
  }
}
