// Same-account mode: every clone logs in to the same XMPP account with its own stable resource.
// The transport waits on presence to learn the account's other agent resources, and sends each
// signal to every such FULL JID, never to the bare JID (which the server would route to the
// user's chat clients). Its own presence is <show>xa</show> with a negative priority, so the
// server never picks an agent for the user's chats. It produces the list of agent resources
// signals go to (peerAddresses) and, when every agent seen has another key, status().hint.
import { createHmac, randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { SIGNAL_NS } from './codec.js';
import { XmppTransport, type Conn, type XmppTransportOptions } from './xmpp.js';
import { peerLabel } from './xmpp-inbox.js';

/** Negative: a message to the bare JID is never delivered to a resource with priority < 0 (RFC 6121 8.5.2). */
const PRESENCE_PRIORITY = '-1';
/** Other agent resources tracked; an account has a handful of devices, 64 bounds a misbehaving one. */
const MAX_RESOURCES = 64;
/** 128 bits of the keyed tag: unguessable without the key, short in every presence stanza. */
const TAG_HEX = 32;

/**
 * The repository tag in our presence marker: HMAC(key, label + repo id). Agents of the same
 * repository compute the same tag and so find each other; agents of other repositories on the same
 * account are told apart (they get no signals of ours, and count no foreign-repo rejections); and
 * roster contacts, who also see this presence, learn nothing about the repository.
 */
export function presenceTag(key: Buffer, repoId: string): string {
  return createHmac('sha256', key)
    .update(`git-autosync presence tag v1\n${repoId}`)
    .digest('hex')
    .slice(0, TAG_HEX);
}

/** At most this many other agents are named in the hint; the rest are counted. */
const HINT_NAMES = 3;

/** The hint for a same-account clone that sees only agents with other keys (pure, for tests). */
export function otherKeysHint(peersWithOurKey: number, otherKeyAgents: string[]): string | null {
  if (peersWithOurKey > 0 || otherKeyAgents.length === 0) return null;
  const names = otherKeyAgents.slice().sort().slice(0, HINT_NAMES).join(', ');
  const more = otherKeyAgents.length > HINT_NAMES ? ` and ${otherKeyAgents.length - HINT_NAMES} more` : '';
  return `no agent with this clone's repository key is online, but ${names}${more} on this account use${otherKeyAgents.length === 1 ? 's' : ''} a different key: if they are clones of this repository, the repository keys differ; copy .git/autosync/key from one clone to the other and restart both agents`;
}

export class SameAccountTransport extends XmppTransport {
  readonly kind = 'xmpp-account' as const;
  /** Full JID -> when its presence was last seen. Only agents of this repository (same tag). */
  private readonly resources = new Map<string, number>();
  /**
   * Full JIDs of the account's other agents whose marker carries another tag: agents of other
   * repositories, or clones of this one whose key differs. Bounded like `resources`.
   */
  private readonly otherKeys = new Set<string>();
  /** Those already logged, so each is logged once per run. */
  private readonly otherKeysLogged = new Set<string>();
  private ownJid = '';
  private readonly tag: string;

  constructor(opts: XmppTransportOptions) {
    super(opts);
    this.tag = presenceTag(opts.key, opts.repoId);
  }

  /** Full JIDs that signals currently go to (for status displays and tests). */
  peerAddresses(): string[] {
    return [...this.resources.keys()].sort();
  }

  protected async startSession(conn: Conn): Promise<void> {
    this.resources.clear();
    this.otherKeys.clear();
    this.ownJid = conn.client.jid?.toString() ?? '';
    // The <agent/> marker tells the other clones of this repository "send signals here"; a chat
    // client of the same account has no marker and gets nothing, an agent of another repository
    // has another tag. The server answers this initial presence with the presence of the
    // account's other available resources.
    await this.send(
      conn,
      xml(
        'presence',
        {},
        xml('show', {}, 'xa'),
        xml('priority', {}, PRESENCE_PRIORITY),
        xml('status', {}, 'git-autosync agent'),
        xml('agent', { xmlns: SIGNAL_NS, tag: this.tag }),
      ),
    );
  }

  protected wrap(signals: XmlElement[]): XmlElement[] {
    const out: XmlElement[] = [];
    for (const to of this.resources.keys()) {
      for (const s of signals) {
        // headline: never stored offline, never copied by carbons to the user's other clients.
        out.push(this.message({ to, type: 'headline', id: `gas-${randomBytes(6).toString('hex')}` }, s));
      }
    }
    return out;
  }

  /** Only from another resource of our own account. */
  protected routable(st: XmlElement): boolean {
    const from = st.attrs.from ?? '';
    return isOwnOtherResource(from, this.bareJid, this.ownJid);
  }

  protected override onOtherStanza(_conn: Conn, st: XmlElement): void {
    const from = st.attrs.from ?? '';
    switch (accountPresence(st, this.tag, this.bareJid, this.ownJid)) {
      case 'agent':
        this.otherKeys.delete(from);
        this.resources.delete(from);
        this.resources.set(from, Date.now());
        if (this.resources.size > MAX_RESOURCES) {
          const oldest = this.resources.keys().next().value;
          if (oldest !== undefined) this.resources.delete(oldest);
        }
        return;
      case 'other-key':
        this.resources.delete(from);
        this.sawOtherKey(from);
        return;
      case 'not-an-agent':
      case 'gone':
        this.resources.delete(from);
        this.otherKeys.delete(from);
        return;
      case 'ignore':
        return;
    }
  }

  private sawOtherKey(from: string): void {
    if (!this.otherKeys.has(from) && this.otherKeys.size >= MAX_RESOURCES) return;
    this.otherKeys.add(from);
    if (this.otherKeysLogged.has(from) || this.otherKeysLogged.size >= MAX_RESOURCES) return;
    this.otherKeysLogged.add(from);
    this.log.info(
      { transport: this.kind, peer: peerLabel(from) },
      'another git-autosync agent on this account uses a different repository key: another repository, or a clone of this one whose key differs (it gets no signals of ours)',
    );
  }

  /**
   * Agents of this account that all use other keys, and none that uses ours: the likeliest story
   * is clones of one repository whose keys differ, so say what to do. With a peer of our own key
   * online, the others are most likely other repositories, and nothing is said.
   */
  protected override sessionHint(): string | null {
    return otherKeysHint(this.resources.size, [...this.otherKeys].map(peerLabel));
  }
}

/** Another resource of our own account (`bareJid`), not our own session (`ownJid`). */
export function isOwnOtherResource(from: string, bareJid: string, ownJid: string): boolean {
  const i = from.indexOf('/');
  if (i <= 0 || i === from.length - 1) return false;
  if (from.slice(0, i).toLowerCase() !== bareJid.toLowerCase()) return false;
  return from !== ownJid;
}

/**
 * What a stanza other than a signal says about the account's resources: an agent of this
 * repository to send signals to ('agent', its marker has our tag), an agent with another key
 * ('other-key'), a resource that is no agent (a chat client: 'not-an-agent'), a resource that went
 * away ('gone'), or nothing ('ignore': not a presence, not another resource of ours, or a
 * subscription request). Pure; table-tested.
 */
export type AccountPresence = 'agent' | 'other-key' | 'not-an-agent' | 'gone' | 'ignore';

export function accountPresence(
  st: XmlElement,
  tag: string,
  bareJid: string,
  ownJid: string,
): AccountPresence {
  if (st.name !== 'presence') return 'ignore';
  if (!isOwnOtherResource(st.attrs.from ?? '', bareJid, ownJid)) return 'ignore';
  const type = st.attrs.type;
  if (type === undefined || type === 'available') {
    const marker = st.getChild('agent', SIGNAL_NS);
    if (marker?.attrs.tag === tag) return 'agent';
    return marker ? 'other-key' : 'not-an-agent';
  }
  if (type === 'unavailable' || type === 'error') return 'gone';
  return 'ignore';
}
