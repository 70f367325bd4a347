// Room mode (XEP-0045): every clone joins one MUC room and signals go to the room as groupchat
// messages. The transport waits on the room's self-presence to know it has joined, creates and
// configures the room (members-only, persistent) when it is the first one in, and produces
// verified peer announcements from the room's messages. A kick, a destroyed room or a bounced
// signal means the session is unusable: it reconnects and joins again, with backoff.
import { randomBytes } from 'node:crypto';
import { jid as parseJid, xml, type XmlElement } from '@xmpp/client';
import { SignalConfigError, StepError, XmppTransport, type Conn, type XmppTransportOptions } from './xmpp.js';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** What a join error means for the user, keyed by its XMPP condition. */
const JOIN_HINTS: Record<string, string> = {
  'registration-required': 'the room is members-only; an owner must add this account as a member',
  forbidden: 'this account is banned from the room',
  conflict: 'another occupant uses the same nickname (is a second clone using this node id?)',
  'not-authorized': 'the room is password-protected',
  'not-allowed': 'the server does not let this account create rooms',
  'item-not-found': 'the room does not exist and cannot be created',
  'remote-server-not-found': 'no MUC service at that address',
  'service-unavailable': 'the room or MUC service is unavailable (full, or no MUC service at that address)',
};

export class MucRoomTransport extends XmppTransport {
  readonly kind = 'xmpp-room' as const;
  readonly room: string;
  readonly nick: string;

  constructor(opts: XmppTransportOptions) {
    super(opts);
    if (!opts.room) throw new SignalConfigError('room mode needs autosync.xmpp.room');
    let r;
    try {
      r = parseJid(opts.room);
    } catch {
      throw new SignalConfigError(`autosync.xmpp.room ${JSON.stringify(opts.room)} is not a JID`);
    }
    if (!r.local || !r.domain || r.resource) {
      throw new SignalConfigError(`autosync.xmpp.room must be room@conference.example.org, got ${opts.room}`);
    }
    this.room = `${r.local}@${r.domain}`.toLowerCase();
    // The node id is unique per clone and already restricted to [A-Za-z0-9._-]: a safe nickname.
    this.nick = opts.nodeId;
  }

  private get occupant(): string {
    return `${this.room}/${this.nick}`;
  }

  protected async startSession(conn: Conn): Promise<void> {
    const joined = this.waitStanza(
      conn,
      (st) =>
        st.name === 'presence' &&
        inRoom(st.attrs.from, this.room) &&
        // Our own occupant JID answering: the self-presence (status 110 on servers that send it).
        (st.attrs.type === 'error' ||
          (sameJid(st.attrs.from, this.occupant) && st.attrs.type !== 'unavailable')),
      this.timing.joinTimeoutMs,
      `joining room ${this.room}`,
    );
    // No history: a signal is only news when it is live; the catch-up after joining is a fetch.
    await this.send(
      conn,
      xml(
        'presence',
        { to: this.occupant },
        xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' })),
      ),
    );
    let st: XmlElement;
    try {
      st = await joined;
    } catch (e) {
      throw new StepError(`cannot join room ${this.room}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (st.attrs.type === 'error') {
      const cond = errorName(st);
      const hint = JOIN_HINTS[cond];
      throw new StepError(`cannot join room ${this.room}: ${errorCondition(st)}${hint ? ` (${hint})` : ''}`);
    }
    if (statusCodes(st).has('201')) await this.configureRoom(conn);
    this.log.info({ room: this.room, nick: this.nick }, 'joined the signal room');
  }

  /**
   * A room we just created: members-only and persistent, so it outlives its occupants and strangers
   * cannot join. Failing to configure is not fatal (signals are authenticated anyway), but it is
   * logged; and the room is then unlocked as an "instant room" so that joining works on servers
   * that lock new rooms until they are configured.
   */
  private async configureRoom(conn: Conn): Promise<void> {
    const membersOnly = this.opts.membersOnly ?? true;
    const field = (v: string, value: string, type?: string) =>
      xml('field', { var: v, ...(type ? { type } : {}) }, xml('value', {}, value));
    const form = xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig', 'hidden'),
      field('muc#roomconfig_persistentroom', '1'),
      field('muc#roomconfig_membersonly', membersOnly ? '1' : '0'),
    );
    try {
      const res = await this.iq(conn, 'set', this.room, xml('query', { xmlns: NS_MUC_OWNER }, form));
      if (res.attrs.type !== 'error') {
        this.log.info(
          { room: this.room, membersOnly },
          'created the signal room and configured it (persistent)',
        );
        return;
      }
      this.log.warn(
        { room: this.room, error: errorCondition(res) },
        'could not configure the new room as members-only and persistent; continuing with the server defaults',
      );
    } catch (e) {
      this.log.warn({ room: this.room, err: String(e) }, 'could not configure the new room; continuing');
    }
    try {
      await this.iq(
        conn,
        'set',
        this.room,
        xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: NS_DATA, type: 'submit' })),
      );
    } catch {
      // If even an instant room is refused, the room was not locked: nothing more to do.
    }
  }

  protected wrap(signals: XmlElement[]): XmlElement[] {
    return signals.map((s) =>
      this.message({ to: this.room, type: 'groupchat', id: `gas-${randomBytes(6).toString('hex')}` }, s),
    );
  }

  /** Only groupchat from an occupant of our room: a direct message is not a room signal. */
  protected routable(st: XmlElement): boolean {
    const from = st.attrs.from;
    return st.attrs.type === 'groupchat' && inRoom(from, this.room) && hasResource(from);
  }

  protected override onOtherStanza(conn: Conn, st: XmlElement): void {
    const from = st.attrs.from;
    if (!inRoom(from, this.room)) return;
    if (st.name === 'presence' && st.attrs.type === 'unavailable' && sameJid(from, this.occupant)) {
      const codes = [...statusCodes(st)].join(',');
      this.connectionBroken(conn, `removed from room ${this.room} (status ${codes || 'none'}); rejoining`);
    } else if (st.name === 'message' && st.attrs.type === 'error') {
      this.connectionBroken(conn, `room ${this.room} refused our signal (${errorCondition(st)}); rejoining`);
    }
  }

  protected override async beforeClose(conn: Conn): Promise<void> {
    await this.send(conn, xml('presence', { to: this.occupant, type: 'unavailable' }));
  }
}

function bareLower(addr: string | undefined): string | null {
  if (!addr) return null;
  const i = addr.indexOf('/');
  return (i < 0 ? addr : addr.slice(0, i)).toLowerCase();
}

function inRoom(addr: string | undefined, room: string): boolean {
  return bareLower(addr) === room;
}

function hasResource(addr: string | undefined): boolean {
  return !!addr && addr.indexOf('/') > 0 && addr.indexOf('/') < addr.length - 1;
}

function sameJid(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const i = a.indexOf('/');
  const j = b.indexOf('/');
  if (i < 0 || j < 0) return a.toLowerCase() === b.toLowerCase();
  return a.slice(0, i).toLowerCase() === b.slice(0, j).toLowerCase() && a.slice(i) === b.slice(j);
}

function statusCodes(st: XmlElement): Set<string> {
  const x = st.getChild('x', NS_MUC_USER);
  return new Set((x?.getChildren('status') ?? []).map((s) => s.attrs.code ?? ''));
}

/** The defined condition of a stanza error, reduced to [a-z-] (it is shown to the user). */
function errorName(st: XmlElement): string {
  const err = st.getChild('error');
  const cond = err?.getChildElements().find((c) => c.name !== 'text' && c.getNS() === NS_STANZAS);
  return (cond?.name ?? 'unknown-error').replace(/[^a-z-]/g, '').slice(0, 60) || 'unknown-error';
}

/** Condition plus the server's text, if any, on one bounded line. */
function errorCondition(st: XmlElement): string {
  const text = st.getChild('error')?.getChildText('text', NS_STANZAS);
  const name = errorName(st);
  return text ? `${name} - ${text.replace(/[\r\n]+/g, ' ').slice(0, 120)}` : name;
}
