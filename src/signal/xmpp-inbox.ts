// The inbox: what peers tell this clone. It waits on the connection's stanzas that carry a signal;
// it produces verified announcements for handlers.onPeerRefs, the incoming 'signalled' bus events,
// and the counts and advice in status() (who was heard from, how many signals were rejected, why
// the last one was, and what to do about it). A signal must come through the transport's route
// (the room / our own account) and pass the codec's verifier (repository, MAC, clock, replay).
// Everything a sender controls is bounded: the peers remembered, the log lines, the hints.
import type { XmlElement } from '@xmpp/client';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import { CLOCK_WINDOW_MS, SIGNAL_NS, SignalVerifier } from './codec.js';
import { EDGES_NS, EdgesVerifier } from './edges-codec.js';
import { PLAN_NS, PlanVerifier } from './plan-codec.js';
import type { PeerInfo, SignalHandlers, TransportKind } from './types.js';

/** Senders tracked in status().peers; bounded so a flood of valid node ids cannot grow memory. */
const MAX_PEERS = 256;
/** Rejections logged per window at most; the rest are only counted (an attacker cannot fill the log). */
const MAX_REJECT_LOGS_PER_MIN = 10;
/** The window MAX_REJECT_LOGS_PER_MIN counts over: one minute. */
const REJECT_LOG_WINDOW_MS = 60_000;
/**
 * Peers whose rejections get their one log line with a hint. A handful of clones share a room;
 * 32 is plenty for them and bounds what a sender inventing new nicknames can make us log.
 */
const MAX_HINTED_PEERS = 32;
/** A peer label in status and the log: the sender's nickname or resource, tamed and short. */
const MAX_PEER_LABEL = 64;

/** Where an incoming stanza goes: a keepalive answer, a signal for the inbox, or the session. */
export type StanzaRoute = 'keepalive' | 'signal' | 'edges' | 'plan' | 'other';

/**
 * The route of one stanza on the current connection (pure; table-tested). `pingId` is the id of
 * the keepalive ping awaiting its answer, if any: any answer to it, even an error, proves the
 * stream alive. A bounced signal (type error) is not a signal: the session decides what it means.
 */
export function routeStanza(st: XmlElement, pingId: string | null): StanzaRoute {
  if (st.name === 'iq' && pingId !== null && st.attrs.id === pingId) return 'keepalive';
  if (st.name === 'message' && st.attrs.type !== 'error' && st.getChild('signal', SIGNAL_NS)) return 'signal';
  if (st.name === 'message' && st.attrs.type !== 'error' && st.getChild('edges', EDGES_NS)) return 'edges';
  if (st.name === 'message' && st.attrs.type !== 'error' && st.getChild('plan', PLAN_NS)) return 'plan';
  return 'other';
}

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

/** Rejections counted in the current log window. */
export interface RejectLogWindow {
  windowStart: number;
  count: number;
}

/**
 * One more rejection at `now`: the window it counts in and whether it gets a log line (pure;
 * table-tested). A window older than REJECT_LOG_WINDOW_MS starts over.
 */
export function countRejection(w: RejectLogWindow, now: number): { window: RejectLogWindow; log: boolean } {
  const start = now - w.windowStart > REJECT_LOG_WINDOW_MS ? { windowStart: now, count: 0 } : w;
  const window = { windowStart: start.windowStart, count: start.count + 1 };
  return { window, log: window.count <= MAX_REJECT_LOGS_PER_MIN };
}

export interface InboxDeps {
  /** The transport's kind, for the log and bus events; read when used. */
  kind: () => TransportKind;
  repoId: string;
  nodeId: string;
  key: Buffer;
  log: Logger;
  bus?: EventBus;
  handlers: SignalHandlers;
  /** Whether a message comes through the route signals use (the room / our own account). */
  routable: (st: XmlElement) => boolean;
  /** A verified sender not heard from before (a peer joined): it is told our edges. */
  newPeer?: () => void;
}

/** The inbox's part of status(). */
export interface InboxStatus {
  peers: PeerInfo[];
  rejected: number;
  rejectedWhy: string | null;
  hint: string | null;
  accepted: number;
  edgesAccepted: number;
}

export class Inbox {
  private readonly verifier: SignalVerifier;
  private readonly edgesVerifier: EdgesVerifier;
  private readonly planVerifier: PlanVerifier;
  private edgesAccepted = 0;
  private rejected = 0;
  private accepted = 0;
  /** Node id -> when its last accepted signal arrived; oldest first. */
  private readonly peers = new Map<string, number>();
  private rejectLog: RejectLogWindow = { windowStart: 0, count: 0 };
  /** The last rejection, "reason from peer: detail", for status(). */
  private rejectedWhy: string | null = null;
  /** What to do about the latest rejection that has advice, for status(). */
  private hint: string | null = null;
  /** peer + reason pairs already logged with their hint. */
  private readonly hinted = new Set<string>();

  constructor(private readonly deps: InboxDeps) {
    this.verifier = new SignalVerifier({ repoId: deps.repoId, nodeId: deps.nodeId, key: deps.key });
    this.edgesVerifier = new EdgesVerifier({ repoId: deps.repoId, nodeId: deps.nodeId, key: deps.key });
    this.planVerifier = new PlanVerifier({ repoId: deps.repoId, nodeId: deps.nodeId, key: deps.key });
  }

  status(): InboxStatus {
    const peers: PeerInfo[] = [...this.peers.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([id, t]) => ({ id, lastSeen: new Date(t).toISOString() }));
    return {
      peers,
      rejected: this.rejected,
      rejectedWhy: this.rejectedWhy,
      hint: this.hint,
      accepted: this.accepted,
      edgesAccepted: this.edgesAccepted,
    };
  }

  /**
   * A message stanza that carries a peer's edges (see routeStanza): the same route rule and the
   * same rejection counts and hints as a signal, then handlers.onPeerEdges.
   */
  receiveEdges(st: XmlElement): void {
    if (!this.deps.routable(st)) {
      this.count('wrong-route', 'edges from outside the room / account', st);
      return;
    }
    let verdict;
    try {
      verdict = this.edgesVerifier.check(st);
    } catch (e) {
      this.count('malformed', `edges verifier error: ${String(e)}`, st);
      return;
    }
    if (verdict.kind === 'ignore') return;
    if (verdict.kind === 'reject') {
      this.count(verdict.reason, `edges: ${verdict.detail}`, st);
      return;
    }
    this.notePeer(verdict.edges.node);
    this.edgesAccepted++;
    try {
      this.deps.handlers.onPeerEdges?.(verdict.edges);
    } catch (e) {
      this.deps.log.warn({ err: String(e) }, 'onPeerEdges handler threw');
    }
  }

  /** A message stanza that carries a key's tree (see routeStanza), checked as edges are. */
  receivePlan(st: XmlElement): void {
    if (!this.deps.routable(st)) {
      this.count('wrong-route', 'plan from outside the room / account', st);
      return;
    }
    let verdict;
    try {
      verdict = this.planVerifier.check(st);
    } catch (e) {
      this.count('malformed', `plan verifier error: ${String(e)}`, st);
      return;
    }
    if (verdict.kind === 'ignore') return;
    if (verdict.kind === 'reject') {
      this.count(verdict.reason, `plan: ${verdict.detail}`, st);
      return;
    }
    this.notePeer(verdict.node);
    try {
      this.deps.handlers.onPeerPlan?.(verdict.node, verdict.plan);
    } catch (e) {
      this.deps.log.warn({ err: String(e) }, 'onPeerPlan handler threw');
    }
  }

  /** A verified sender, newest last; at most MAX_PEERS remembered. */
  private notePeer(node: string): void {
    if (!this.peers.has(node)) this.deps.newPeer?.();
    this.peers.delete(node);
    this.peers.set(node, Date.now());
    if (this.peers.size > MAX_PEERS) {
      const oldest = this.peers.keys().next().value;
      if (oldest !== undefined) this.peers.delete(oldest);
    }
  }

  /** A message stanza that carries a signal (see routeStanza). */
  receive(st: XmlElement): void {
    if (!this.deps.routable(st)) {
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
    this.notePeer(verdict.announcement.from);
    this.accepted++;
    this.deps.bus?.emit('signalled', { direction: 'in', transport: this.deps.kind(), accepted: true });
    try {
      this.deps.handlers.onPeerRefs(verdict.announcement);
    } catch (e) {
      this.deps.log.warn({ err: String(e) }, 'onPeerRefs handler threw');
    }
  }

  private count(reason: string, detail: string, st: XmlElement): void {
    const { log, bus } = this.deps;
    const transport = this.deps.kind();
    this.rejected++;
    bus?.emit('signalled', { direction: 'in', transport, accepted: false, reason });
    const peer = peerLabel(st.attrs.from);
    this.rejectedWhy = `${reason} from ${peer}: ${detail.slice(0, 100)}`;
    const hint = rejectionHint(reason, peer);
    if (hint) {
      this.hint = hint;
      const key = `${peer}\0${reason}`;
      if (!this.hinted.has(key) && this.hinted.size < MAX_HINTED_PEERS) {
        this.hinted.add(key);
        log.warn({ transport, peer, reason }, hint);
      }
    }
    const next = countRejection(this.rejectLog, Date.now());
    this.rejectLog = next.window;
    if (next.log) {
      log.warn(
        { transport, reason, detail: detail.slice(0, 200), sender: (st.attrs.from ?? '').slice(0, 200) },
        'signal rejected',
      );
    }
  }
}
