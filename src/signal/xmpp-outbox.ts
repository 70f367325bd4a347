// The outbox: what this clone tells its peers. It waits on announce() (after each push) and on the
// connection coming online; it produces signed signal stanzas on the live connection, at most one
// batch in flight, and the outgoing 'signalled' bus events. While offline, announcements coalesce into
// the latest (only the newest refs matter). With stream management, a batch the server has not
// acknowledged when the stream breaks is sent again after reconnecting, unless a newer one waits.
import { background } from '../core/background.js';
import { xml, type XmlElement } from '@xmpp/client';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import { encodeSignal, MAX_PUSHED_TO, MAX_REFS, SequenceCounter } from './codec.js';
import { encodeEdges } from './edges-codec.js';
import { encodePlan } from './plan-codec.js';
import { RecentPlans } from './plan-resend.js';
import type { KeyPlan, OwnEdges, RefsAnnouncement, TransportKind } from './types.js';

/**
 * Plans waiting to go out at most. A burst of new files makes one plan each; past this, new plans
 * are not sent (their keys are flooded at the peers: nothing is lost, only the saving).
 */
export const MAX_PENDING_PLANS = 256;
import { isSha } from '../git/sha.js';
import { isId, refNameProblem } from './validate.js';
import type { Conn } from './xmpp-connection.js';

const NS_HINTS = 'urn:xmpp:hints';

/** What goes into the signals of one announcement, decided before anything is signed. */
export interface SignalPlan {
  /** The valid refs in name order, at most MAX_REFS per signal; one empty chunk when none. */
  chunks: Array<Record<string, string>>;
  /** Distinct valid ids, at most MAX_PUSHED_TO. */
  pushedTo: string[];
  /** Refs left out, in the announcement's order, with why. */
  leftOut: Array<{ ref: string; problem: string }>;
  /** How many distinct valid ids there were before the cut to MAX_PUSHED_TO. */
  pushedToCount: number;
}

/** Validates, sorts and chunks one announcement (pure; table-tested). */
export function planSignals(a: RefsAnnouncement): SignalPlan {
  const refs: Array<[string, string]> = [];
  const leftOut: SignalPlan['leftOut'] = [];
  for (const [name, sha] of Object.entries(a.refs)) {
    const problem = refNameProblem(name) ?? (isSha(sha) ? null : 'SHA is not 40/64 lower-case hex');
    if (problem) leftOut.push({ ref: name, problem });
    else refs.push([name, sha]);
  }
  refs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const ids = [...new Set(a.pushedTo)].filter((id) => isId(id));
  const chunks: Array<Record<string, string>> = [];
  for (let i = 0; i < refs.length; i += MAX_REFS)
    chunks.push(Object.fromEntries(refs.slice(i, i + MAX_REFS)));
  if (chunks.length === 0) chunks.push({});
  return { chunks, pushedTo: ids.slice(0, MAX_PUSHED_TO), leftOut, pushedToCount: ids.length };
}

/** A message carrying one signal; hints keep it out of archives and offline storage. */
export function signalMessage(attrs: Record<string, string>, signal: XmlElement): XmlElement {
  return xml('message', attrs, signal, xml('no-store', { xmlns: NS_HINTS }));
}

export interface OutboxDeps {
  /** The transport's kind, for bus events; read when used. */
  kind: () => TransportKind;
  repoId: string;
  nodeId: string;
  key: Buffer;
  log: Logger;
  bus?: EventBus;
  /** The current connection attempt or session, if any. */
  conn: () => Conn | null;
  /** The message stanzas that carry these signals to the peers (may be none: nobody to tell). */
  wrap: (signals: XmlElement[]) => XmlElement[];
}

export class Outbox {
  private readonly seq = new SequenceCounter();
  private pending: RefsAnnouncement | null = null;
  private unacked: { announcement: RefsAnnouncement; stanzas: Set<XmlElement> } | null = null;
  private flushing = false;
  /** Message stanzas sent since start (benchmarks count per change). */
  private sentCount = 0;
  /** Our links as last given (announceEdges), and whether they are still to be sent. */
  private edges: OwnEdges | null = null;
  private edgesDue = false;
  /** The edges' own sequence numbers: the receiver tracks them apart from the signals'. */
  private readonly edgesSeq = new SequenceCounter();
  private readonly planSeq = new SequenceCounter();
  /** Plans not sent yet, oldest first. */
  private readonly plans: KeyPlan[] = [];
  /** Plans sent lately, sent again when a peer joins or we reconnect (plan-resend.ts bounds it). */
  private readonly recent = new RecentPlans();

  constructor(private readonly deps: OutboxDeps) {}

  get sent(): number {
    return this.sentCount;
  }

  announce(a: RefsAnnouncement): void {
    // Coalesce: only the latest announcement matters, it supersedes any not yet sent.
    this.pending = { refs: { ...a.refs }, pushedTo: [...a.pushedTo] };
    background(this.flush(), this.deps.log, 'sending the refs announcement');
  }

  /**
   * Our links, to be sent now (at most one edges message waits: only the newest matters). Also
   * sent after every reconnect, so a peer that joined while we were away hears them.
   */
  announceEdges(e: OwnEdges): void {
    this.edges = { self: e.self, edges: e.edges.map((x) => ({ ...x })) };
    this.edgesDue = true;
    background(this.flush(), this.deps.log, 'sending our edges');
  }

  /**
   * A key's tree, sent now; sent again, within plan-resend.ts's bounds, when a peer joins or we
   * reconnect, so a clone that was away does not flood the key for want of its plan.
   */
  announcePlan(p: KeyPlan): void {
    if (this.queuePlan(p)) background(this.flush(), this.deps.log, 'sending a key plan');
  }

  /** A peer we had not heard from: it may not know our edges, nor our recent plans, yet. */
  peerJoined(): void {
    const resent = this.queueRecentPlans();
    if (this.edges) this.edgesDue = true;
    if (this.edges || resent) background(this.flush(), this.deps.log, 'sending our edges');
  }

  /** A new session: a batch the server never acknowledged may be lost, so it goes again. */
  reconnected(): void {
    if (this.unacked && !this.pending) this.pending = this.unacked.announcement;
    this.unacked = null;
    if (this.edges) this.edgesDue = true;
    this.queueRecentPlans();
  }

  /** Queues a plan unless too many wait or it waits already; whether it was queued. */
  private queuePlan(p: KeyPlan): boolean {
    if (this.plans.some((q) => q.key === p.key)) return false;
    if (this.plans.length >= MAX_PENDING_PLANS) {
      this.deps.log.warn(
        { key: p.key.slice(0, 100) },
        'too many plans waiting to be sent; this key is flooded',
      );
      return false;
    }
    this.plans.push(p);
    return true;
  }

  /** Queues the recent plans due again; whether any was. */
  private queueRecentPlans(): boolean {
    let any = false;
    for (const p of this.recent.due(Date.now())) any = this.queuePlan(p) || any;
    return any;
  }

  /** Stream management acknowledged `st`; the batch is safe once all of it is. */
  acked(st: XmlElement): void {
    if (!this.unacked) return;
    this.unacked.stanzas.delete(st);
    if (this.unacked.stanzas.size === 0) this.unacked = null;
  }

  /** Sends what is pending while the connection is online; one flush runs at a time. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (;;) {
        const conn = this.deps.conn();
        if (!conn || !conn.online || conn.dead) return;
        const a = this.pending;
        if (!a) {
          if (!(await this.flushEdges(conn)) && !(await this.flushPlans(conn))) return;
          continue;
        }
        this.pending = null;
        let signals: XmlElement[];
        try {
          signals = this.buildSignals(a);
        } catch (e) {
          this.deps.log.warn({ err: String(e) }, 'announcement could not be encoded; dropped');
          continue;
        }
        try {
          const messages = await this.wrapAndDeliver(conn, signals);
          if (conn.client.streamManagement.enabled && messages.size > 0) {
            this.unacked = { announcement: a, stanzas: messages };
          }
          this.deps.bus?.emit('signalled', { direction: 'out', transport: this.deps.kind(), accepted: true });
        } catch (e) {
          // Keep it for the next session unless a newer announcement already replaced it.
          this.pending ??= a;
          this.deps.log.warn({ err: String(e) }, 'sending a signal failed; will resend after reconnecting');
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Sends the plans waiting, in one write; false when there were none or sending failed. */
  private async flushPlans(conn: Conn): Promise<boolean> {
    if (this.plans.length === 0) return false;
    const batch = this.plans.splice(0, this.plans.length);
    const els: XmlElement[] = [];
    const encoded: KeyPlan[] = [];
    for (const plan of batch) {
      try {
        els.push(
          encodePlan(
            {
              repo: this.deps.repoId,
              node: this.deps.nodeId,
              seq: this.planSeq.next(),
              ts: Date.now(),
              plan,
            },
            this.deps.key,
          ),
        );
        encoded.push(plan);
      } catch (err) {
        this.deps.log.warn(
          { err: String(err), key: plan.key.slice(0, 100) },
          'a key plan could not be encoded; not sent',
        );
      }
    }
    try {
      if (els.length > 0) await this.wrapAndDeliver(conn, els);
      const now = Date.now();
      for (const plan of encoded) this.recent.noteSent(plan, now);
      return els.length > 0;
    } catch (err) {
      this.deps.log.warn({ err: String(err) }, 'sending key plans failed; those keys are flooded');
      return false;
    }
  }

  /** Sends our edges when due; false when there was nothing to send or sending failed. */
  private async flushEdges(conn: Conn): Promise<boolean> {
    const e = this.edges;
    if (!e || !this.edgesDue) return false;
    this.edgesDue = false;
    let el: XmlElement;
    try {
      el = encodeEdges(
        { repo: this.deps.repoId, node: this.deps.nodeId, seq: this.edgesSeq.next(), ts: Date.now(), ...e },
        this.deps.key,
      );
    } catch (err) {
      this.deps.log.warn({ err: String(err) }, 'our edges could not be encoded; not sent');
      return false;
    }
    try {
      await this.wrapAndDeliver(conn, [el]);
      return true;
    } catch (err) {
      // Sent again after reconnecting (reconnected() marks them due).
      this.deps.log.warn({ err: String(err) }, 'sending our edges failed; will resend after reconnecting');
      return false;
    }
  }

  /** Addresses, sends in one write, and returns the stanzas (for stream-management ack tracking). */
  private async wrapAndDeliver(conn: Conn, signals: XmlElement[]): Promise<Set<XmlElement>> {
    const messages = this.deps.wrap(signals);
    if (messages.length > 0) await conn.client.sendMany(messages);
    this.sentCount += messages.length;
    return new Set(messages);
  }

  /** Validated, chunked, signed signal elements for one announcement. */
  private buildSignals(a: RefsAnnouncement): XmlElement[] {
    const plan = planSignals(a);
    for (const { ref, problem } of plan.leftOut)
      this.deps.log.warn({ ref: ref.slice(0, 100), problem }, 'ref left out of the signal');
    if (plan.pushedToCount > MAX_PUSHED_TO)
      this.deps.log.warn({ count: plan.pushedToCount }, 'too many pushedTo ids; extra ones left out');
    return plan.chunks.map((refs) =>
      encodeSignal(
        {
          repo: this.deps.repoId,
          node: this.deps.nodeId,
          seq: this.seq.next(),
          ts: Date.now(),
          refs,
          pushedTo: plan.pushedTo,
        },
        this.deps.key,
      ),
    );
  }
}
