// Same-account mode: every clone logs in to the same XMPP account with its own stable resource.
// The transport waits on presence to learn the account's other agent resources, and sends each
// signal to every such FULL JID, never to the bare JID (which the server would route to the
// user's chat clients). Its own presence is <show>xa</show> with a negative priority, so the
// server never picks an agent for the user's chats.
import { createHmac, randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { SIGNAL_NS } from './codec.js';
import { XmppTransport, type Conn, type XmppTransportOptions } from './xmpp.js';

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

export class SameAccountTransport extends XmppTransport {
  readonly kind = 'xmpp-account' as const;
  /** Full JID -> when its presence was last seen. Only agents of this repository (same tag). */
  private readonly resources = new Map<string, number>();
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
    return this.isOwnOtherResource(from);
  }

  protected override onOtherStanza(_conn: Conn, st: XmlElement): void {
    if (st.name !== 'presence') return;
    const from = st.attrs.from ?? '';
    if (!this.isOwnOtherResource(from)) return;
    const type = st.attrs.type;
    if (type === undefined || type === 'available') {
      if (st.getChild('agent', SIGNAL_NS)?.attrs.tag === this.tag) {
        this.resources.delete(from);
        this.resources.set(from, Date.now());
        if (this.resources.size > MAX_RESOURCES) {
          const oldest = this.resources.keys().next().value;
          if (oldest !== undefined) this.resources.delete(oldest);
        }
      } else this.resources.delete(from);
    } else if (type === 'unavailable' || type === 'error') {
      this.resources.delete(from);
    }
  }

  private isOwnOtherResource(from: string): boolean {
    const i = from.indexOf('/');
    if (i <= 0 || i === from.length - 1) return false;
    if (from.slice(0, i).toLowerCase() !== this.bareJid.toLowerCase()) return false;
    return from !== this.ownJid;
  }
}
