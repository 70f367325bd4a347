// Room mode (XEP-0045): every clone joins one MUC room and signals go to the room as groupchat
// messages. The transport waits on the room's self-presence to know it has joined. It enters with
// a room password derived from the repository key, so only clones that hold the key get in,
// whatever XMPP account they use. The first one in creates the room with that password (and
// configures it persistent, hidden, not members-only); an owner that finds an older members-only
// or unprotected room opens it to key holders the same way. It produces verified peer
// announcements from the room's messages. A kick, a destroyed room or a bounced signal means the
// session is unusable: it reconnects and joins again, with backoff.
import { createHmac, randomBytes } from 'node:crypto';
import { jid as parseJid, xml, type XmlElement } from '@xmpp/client';
import { XmppTransport, type Conn, type XmppTransportOptions } from './xmpp.js';
import { SignalConfigError, StepError } from './xmpp-errors.js';
import { background } from '../core/background.js';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';

/** 128 bits of the keyed derivation: unguessable without the key, short enough for any server. */
const ROOM_PASSWORD_HEX = 32;

/**
 * The room password: HMAC(key, label + room JID). Every clone that holds the repository key
 * computes the same one, so no password is stored or typed; the server learns only this value,
 * which reveals nothing about the key and cannot sign a signal. The room JID is part of it, so a
 * password seen by one server's operator opens no other room.
 */
export function roomPassword(key: Buffer, room: string): string {
  return createHmac('sha256', key)
    .update(`git-autosync room password v1\n${room.toLowerCase()}`)
    .digest('hex')
    .slice(0, ROOM_PASSWORD_HEX);
}

/** The room settings we want, as muc#roomconfig fields (XEP-0045 section 16.5.3). */
function wantedConfig(password: string): Array<[string, string]> {
  return [
    // Outlives its occupants: a clone that comes back finds the same room and password.
    ['muc#roomconfig_persistentroom', '1'],
    // Open to any account that knows the password: the key, not a member list, decides who is in.
    ['muc#roomconfig_membersonly', '0'],
    ['muc#roomconfig_passwordprotectedroom', '1'],
    ['muc#roomconfig_roomsecret', password],
    // Not listed in the service's public room directory.
    ['muc#roomconfig_publicroom', '0'],
  ];
}
/** What a join error means for the user, keyed by its XMPP condition. */
const JOIN_HINTS: Record<string, string> = {
  'registration-required':
    'the room is members-only; an agent on the account that created it opens it to key holders when it joins, or an owner must add this account as a member',
  forbidden: 'this account is banned from the room',
  conflict: 'another occupant uses the same nickname (is a second clone using this node id?)',
  'not-authorized':
    "the room password, derived from the repository key, does not match: this clone's key differs from the one the room was made with; copy .git/autosync/key from a clone that syncs to this one and restart the agent, or pick another autosync.xmpp.room",
  'not-allowed': 'the server does not let this account create rooms',
  'item-not-found': 'the room does not exist and cannot be created',
  'remote-server-not-found': 'no MUC service at that address',
  'service-unavailable': 'the room or MUC service is unavailable (full, or no MUC service at that address)',
};

export class MucRoomTransport extends XmppTransport {
  readonly kind = 'xmpp-room' as const;
  readonly room: string;
  readonly nick: string;
  private readonly password: string;

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
    this.password = roomPassword(opts.key, this.room);
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
    // The password opens a protected room; a server that creates the room from this presence
    // (Prosody does) sets it as the new room's password at once, with no unprotected moment.
    await this.send(
      conn,
      xml(
        'presence',
        { to: this.occupant },
        xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '0' }), xml('password', {}, this.password)),
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
    else if (affiliation(st) === 'owner') await this.reconfigureIfNeeded(conn);
    // Only a note: the session does not wait for the server's answer.
    else background(this.warnIfUnprotected(conn), this.log, 'checking how the room is protected');
    this.log.info({ room: this.room, nick: this.nick }, 'joined the signal room');
  }

  /** The room's current configuration as field -> value, or null if we may not read it. */
  private async readConfig(conn: Conn): Promise<Map<string, string> | null> {
    try {
      const res = await this.iq(conn, 'get', this.room, xml('query', { xmlns: NS_MUC_OWNER }));
      if (res.attrs.type === 'error') return null;
      const form = res.getChild('query', NS_MUC_OWNER)?.getChild('x', NS_DATA);
      if (!form) return null;
      const out = new Map<string, string>();
      for (const f of form.getChildren('field')) {
        if (f.attrs.var) out.set(f.attrs.var, f.getChildText('value') ?? '');
      }
      return out;
    } catch {
      return null;
    }
  }

  /**
   * A room we own that we did not just create: one an older agent made members-only (which locks
   * out every other account) or left without a password. Open it to key holders, once; a room
   * that is already right is left alone, so clones never fight over its settings.
   */
  private async reconfigureIfNeeded(conn: Conn): Promise<void> {
    const cfg = await this.readConfig(conn);
    if (!cfg) return;
    const pick = decideReconfigure(cfg);
    if (!pick) return;
    this.log.info({ room: this.room, why: pick }, 'reconfiguring the signal room for key holders');
    await this.submitConfig(conn, 'reconfigured');
  }

  /** Not our room and open to anyone: it works (signals are authenticated), but say so once. */
  private async warnIfUnprotected(conn: Conn): Promise<void> {
    try {
      const res = await this.iq(conn, 'get', this.room, xml('query', { xmlns: NS_DISCO_INFO }));
      const features = (res.getChild('query', NS_DISCO_INFO)?.getChildren('feature') ?? []).map(
        (f) => f.attrs.var,
      );
      if (features.includes('muc_unsecured')) {
        this.log.warn(
          { room: this.room },
          'the signal room has no password and this account does not own it: anyone can join and see which refs change (signals stay authenticated by the key); an agent on the account that created it, or its owner, can protect it',
        );
      }
    } catch {
      // Only a note: nothing depends on it.
    }
  }

  /**
   * A room we just created: protected by the key-derived password, persistent, hidden, and not
   * members-only. Failing to configure is not fatal (signals are authenticated anyway), but it is
   * logged; and the room is then unlocked as an "instant room" so that joining works on servers
   * that lock new rooms until they are configured.
   */
  private async configureRoom(conn: Conn): Promise<void> {
    if (await this.submitConfig(conn, 'created')) return;
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

  /** Submits wantedConfig(); true when the server accepted it. Never throws. */
  private async submitConfig(conn: Conn, what: 'created' | 'reconfigured'): Promise<boolean> {
    const field = (v: string, value: string, type?: string) =>
      xml('field', { var: v, ...(type ? { type } : {}) }, xml('value', {}, value));
    const form = xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      field('FORM_TYPE', ROOMCONFIG, 'hidden'),
      ...wantedConfig(this.password).map(([v, value]) => field(v, value)),
    );
    try {
      const res = await this.iq(conn, 'set', this.room, xml('query', { xmlns: NS_MUC_OWNER }, form));
      if (res.attrs.type !== 'error') {
        this.log.info(
          { room: this.room },
          `${what} the signal room: password-protected with a password derived from the repository key, persistent, not members-only`,
        );
        return true;
      }
      this.log.warn(
        { room: this.room, error: errorCondition(res) },
        'could not configure the signal room with the key-derived password; continuing with the server defaults (signals stay authenticated)',
      );
    } catch (e) {
      this.log.warn({ room: this.room, err: String(e) }, 'could not configure the signal room; continuing');
    }
    return false;
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
    const why = roomSessionBroken(st, this.room, this.occupant);
    if (why) this.connectionBroken(conn, why);
  }

  protected override async beforeClose(conn: Conn): Promise<void> {
    await this.send(conn, xml('presence', { to: this.occupant, type: 'unavailable' }));
  }
}

/**
 * Whether a stanza from the room (other than a signal) ends our session, and why (pure;
 * table-tested). Our own occupant leaving is a kick, a ban or the room's end; a bounced message is
 * a signal the room refused. Either way we are not in the room any more: rejoin. Null: carry on.
 */
export function roomSessionBroken(st: XmlElement, room: string, occupant: string): string | null {
  const from = st.attrs.from;
  if (!inRoom(from, room)) return null;
  if (st.name === 'presence' && st.attrs.type === 'unavailable' && sameJid(from, occupant)) {
    const codes = [...statusCodes(st)].join(',');
    return `removed from room ${room} (status ${codes || 'none'}); rejoining`;
  }
  if (st.name === 'message' && st.attrs.type === 'error')
    return `room ${room} refused our signal (${errorCondition(st)}); rejoining`;
  return null;
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

/** Our affiliation in the room, from the self-presence (owner, admin, member, none). */
function affiliation(st: XmlElement): string {
  return st.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.affiliation ?? 'none';
}

const truthy = (v: string | undefined) => v === '1' || v === 'true';

/**
 * Whether an owner should rewrite a room's configuration, and why (null: leave it alone). Pure:
 * it looks only at the fields the owner form showed. Members-only locks other accounts out; no
 * password lets anyone in. A room that already has a password let us in with ours (the server
 * checked it), so that password is ours and nothing needs doing.
 */
export function decideReconfigure(cfg: ReadonlyMap<string, string>): string | null {
  if (truthy(cfg.get('muc#roomconfig_membersonly'))) return 'members-only';
  const secret = cfg.get('muc#roomconfig_roomsecret');
  const protectedFlag = cfg.get('muc#roomconfig_passwordprotectedroom');
  if (protectedFlag !== undefined ? !truthy(protectedFlag) : !secret) return 'no password';
  return null;
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
