// The contract between the agent and a signal transport. A transport tells peers "my refs changed"
// and hands the agent what peers said. It owns no git work: inbound announcements go to the
// `onPeerRefs` callback, which only enqueues (collapsing) fetch work and returns at once.
import type { Service } from '../core/service.js';
import type { PeerEdges, WireEdge } from './edges-codec.js';
import type { KeyPlan } from '../map/tree-plan.js';

export type { PeerEdges, WireEdge, KeyPlan };

export type TransportKind = 'xmpp-room' | 'xmpp-account' | 'refs-watch';
export type SignalState = 'online' | 'connecting' | 'offline';

/** What we announce after a push, and what a verified inbound signal carries. */
export interface RefsAnnouncement {
  /** Full ref name -> 40-hex SHA, e.g. { "refs/heads/main": "…" }. Names pass check-ref-format. */
  refs: Record<string, string>;
  /** Repository UUIDs (annex) or ids (plain git) that the sender pushed these refs to. */
  pushedTo: string[];
}

export interface PeerAnnouncement extends RefsAnnouncement {
  /** Sender's node id (stable per clone). Never used as a path, URL or option. */
  from: string;
}

export interface PeerInfo {
  id: string;
  lastSeen: string;
}

export interface SignalStatus {
  transport: TransportKind;
  state: SignalState;
  peers: PeerInfo[];
  rejected: number;
  /** The last rejection, "<reason> from <peer>: <detail>" (bounded), or null. */
  rejectedWhy?: string | null;
  /**
   * What to do about rejected signals, one line, e.g. "signals from <peer> were rejected: … the
   * repository keys differ …; copy .git/autosync/key …". Null while no rejection needs action.
   */
  hint?: string | null;
  /** Last connection or authentication error, for `status` (never contains secrets). */
  error?: string | null;
  /** Signal message stanzas sent since start (one per room message, one per full JID otherwise). */
  sent?: number;
  /** Verified signals from peers accepted since start. */
  accepted?: number;
  /** Verified edge messages (edges-codec.ts) accepted from peers since start. */
  edgesAccepted?: number;
}

export interface SignalHandlers {
  /** A verified announcement from a peer. Must not block. */
  onPeerRefs(a: PeerAnnouncement): void;
  /** Called after every (re)connect: the agent catches up (fetch all, merge, announce). */
  onConnected(): void;
  /** A peer's verified links (edges-codec.ts). Must not block. Absent: edges are not listened to. */
  onPeerEdges?(e: PeerEdges): void;
  /** A key's tree from the clone that added it (plan-codec.ts). Must not block. */
  onPeerPlan?(node: string, plan: KeyPlan): void;
}

/** Our own links as we tell them to peers: our repository's annex UUID and one edge per remote. */
export interface OwnEdges {
  self: string;
  edges: WireEdge[];
}

export interface SignalTransport extends Service {
  readonly kind: TransportKind;
  /** Queue an announcement. Never blocks; while offline, announcements coalesce into the latest. */
  announce(a: RefsAnnouncement): void;
  /**
   * Tell peers our links (XMPP only): sent now, again after every reconnect, and on each call
   * with the same value (the refresh that keeps them from going stale at the peers).
   */
  announceEdges?(e: OwnEdges): void;
  /** Send a key's tree to the peers (XMPP only), once; a plan lost on the way means a flooded key. */
  announcePlan?(p: KeyPlan): void;
  status(): SignalStatus;
  /** The network came back or the machine woke: reconnect at once (transports with a connection). */
  wake?(): void;
}
