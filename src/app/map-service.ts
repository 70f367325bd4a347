// The network map of a running agent: the one home of the peers' edges (map/store.ts), of what we
// tell peers of our own, and of the key plans we follow (map/plan-store.ts). Waits on: start
// (annex mode with XMPP), `changed()` (the git config read again, a drive mounted or gone),
// `pushed()` (a remote's reachability may have changed; the last outcomes are read from the
// pusher's PushOutcomes), a verified <edges/> or <plan/> from a peer (`onPeerEdges`, `onPeerPlan`,
// fed by the signal layer), the transfer scan's new keys (`routing().originate`), a transfer that
// failed for good (`transferFailed`), and a refresh timer every EDGE_REFRESH_MS. Produces: our edges
// into the map outbox (signal/map-outbox.ts, which the XMPP transport drains) when they change and
// at each refresh; our new keys' plans, into the same outbox; `map()` (our reading merged with the
// peers' word) for the `map` verb and the planner; `routing()` for the transfer scan
// (autosync.planner=tree); `status()` for `status --json`.
import type { Logger } from '../core/log.js';
import { background } from '../core/background.js';
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import type { NetworkMap } from '../map/graph.js';
import { readMap } from '../map/read.js';
import {
  EDGE_REFRESH_MS,
  EDGE_STALE_MS,
  mapCounts,
  mergePeerEdges,
  ownWireEdges,
  PeerEdgeStore,
  type PeerReport,
  type PeerReportStatus,
} from '../map/store.js';
import type { KeyPlan, OwnEdges, PeerEdges } from '../signal/types.js';
import type { MapOutbox } from '../signal/map-outbox.js';
import type { PushOutcomes } from '../agent/push-outcomes.js';
import type { EventBus } from '../core/bus.js';
import type { KeyInfo } from '../map/planner.js';
import { PlanStore } from '../map/plan-store.js';
import { computeKeyPlan, planProblem, type PlannerMode } from '../map/tree-plan.js';
import type { TreeRouting } from '../transfer/service.js';
import { isValidUuid } from '../annex/keys.js';

export interface MapServiceDeps {
  runner: Runner;
  info: RepoInfo;
  log: Logger;
  /** Where our edges and plans go (the XMPP transport drains it); created before both. */
  outbox: Pick<MapOutbox, 'announceEdges' | 'announcePlan'>;
  /** autosync.planner at start: with `tree`, new keys travel along their plans. */
  planner: PlannerMode;
  /** Whether the last push to a remote worked (the pusher writes it; null: not tried yet). */
  outcomes: Pick<PushOutcomes, 'lastPushOk'>;
  /** Tests shorten these; the agent uses the defaults (map/store.ts says why they are what they are). */
  refreshMs?: number;
  staleMs?: number;
}

/** `status --json` `map`: the counts of interface.md, and each peer's report with its age. */
export interface MapStatus {
  nodes: number;
  edges: number;
  stale: number;
  peers: PeerReportStatus[];
}

export class MapService {
  readonly name = 'map';
  private readonly store: PeerEdgeStore;
  /** Our own reading (config, local repositories, the git-annex branch); null before the first. */
  private base: NetworkMap | null = null;
  /** What we last told peers, to send only changes between refreshes. */
  private lastSent = '';
  private timer: NodeJS.Timeout | null = null;
  /** One reading at a time; a change during one is read after it. */
  private reading: Promise<void> = Promise.resolve();
  private readonly refreshMs: number;
  private readonly staleMs: number;
  /** The key plans we follow (tree planner only). */
  private readonly plans: PlanStore | null;

  constructor(private readonly d: MapServiceDeps) {
    this.store = new PeerEdgeStore(d.info.annexUuid);
    this.refreshMs = d.refreshMs ?? EDGE_REFRESH_MS;
    this.staleMs = d.staleMs ?? EDGE_STALE_MS;
    const self = d.info.annexUuid;
    this.plans = d.planner === 'tree' && self !== null && isValidUuid(self) ? new PlanStore(self) : null;
  }

  /** What the transfer scan follows (autosync.planner=tree), or null for flood. */
  routing(): TreeRouting | null {
    const store = this.plans;
    if (!store) return null;
    return {
      store,
      originate: (keys) => this.originate(store, keys),
      failed: (key, uuid) => store.failed(key, uuid),
    };
  }

  /** The repository a remote of ours points at, as our last reading says (for failed transfers). */
  uuidOfRemote(remote: string): string | null {
    return this.base?.edges.find((e) => e.from === this.base?.self && e.remote === remote)?.to ?? null;
  }

  /** A transfer of a planned key that failed for good contradicts its plan: that key floods. */
  transferFailed(key: string, remote: string): void {
    const uuid = this.plans ? this.uuidOfRemote(remote) : null;
    if (uuid) this.plans?.failed(key, uuid);
  }

  /** A key's tree from the clone that added it: followed here, never recomputed. */
  onPeerPlan(node: string, plan: KeyPlan): void {
    if (!this.plans) return;
    // The codec checked it already; this is the receiver's own rule, kept beside its use.
    if (planProblem(plan, isValidUuid) !== null) return;
    if (this.plans.put(plan, Date.now()))
      this.d.log.debug({ peer: node, key: plan.key.slice(0, 100) }, 'key plan received');
  }

  /** Our own new keys: each gets its tree over the merged map (or is flooded, and the log says why). */
  private async originate(store: PlanStore, keys: KeyInfo[]): Promise<void> {
    const m = await this.map();
    const now = Date.now();
    for (const k of keys) {
      if (store.has(k.key)) continue;
      const d = computeKeyPlan(m, { key: k.key, holders: k.present, wanters: k.wantedBy });
      if (d.kind === 'flood') {
        this.d.log.info(
          { key: k.key.slice(0, 100), why: d.why, detail: d.detail },
          'no tree for a new key; flooding it',
        );
        continue;
      }
      store.put(d.plan, now);
      this.d.outbox.announcePlan(d.plan);
      this.d.log.info(
        { key: k.key.slice(0, 100), edges: d.plan.edges.length },
        'new key planned along its tree',
      );
    }
  }

  async start(): Promise<void> {
    // A map that cannot be read now must not stop the agent from starting: the refresh tries again.
    await this.reread(true).catch((e: unknown) =>
      this.d.log.warn({ err: String(e) }, 'could not read our edges'),
    );
    this.timer = setInterval(
      () => background(this.reread(true), this.d.log, 'refreshing our edges'),
      this.refreshMs,
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.reading.catch(() => undefined);
  }

  /** The config or a drive changed: read our links again, tell peers if they differ. */
  changed(): void {
    background(this.reread(false), this.d.log, 'reading our edges');
  }

  /** A push ended: a remote may have become reachable or not. */
  pushed(): void {
    this.publish(false);
  }

  /** A peer's verified edges (signal/edges-codec.ts checked every field). */
  onPeerEdges(e: PeerEdges): void {
    const kept = this.store.put({ node: e.node, self: e.self, edges: e.edges, receivedAt: Date.now() });
    if (!kept) this.d.log.warn({ peer: e.node }, 'a peer sent edges in the name of this repository; ignored');
  }

  /** Our reading merged with the peers' word, fresh from git config and the git-annex branch. */
  async map(): Promise<NetworkMap> {
    const m = await readMap(this.d.runner, this.d.info);
    return mergePeerEdges(m, this.store.all(), Date.now(), { staleMs: this.staleMs });
  }

  /** What peers told us, for the `map` verb (it merges them into its own reading). */
  reports(): { reports: PeerReport[]; staleMs: number } {
    return { reports: this.store.all(), staleMs: this.staleMs };
  }

  /** The last reading merged with the peers' word: no I/O, for status. */
  status(): MapStatus {
    const now = Date.now();
    const merged = this.base
      ? mergePeerEdges(this.base, this.store.all(), now, { staleMs: this.staleMs })
      : null;
    const counts = merged ? mapCounts(merged) : { nodes: 0, edges: 0, stale: 0 };
    return { ...counts, peers: this.store.status(now, this.staleMs) };
  }

  private reread(force: boolean): Promise<void> {
    this.reading = this.reading
      .catch(() => undefined)
      .then(async () => {
        this.base = await readMap(this.d.runner, this.d.info);
        this.publish(force);
      });
    return this.reading;
  }

  /** Tells peers our edges when they changed, or always when `force` (start, refresh). */
  private publish(force: boolean): void {
    if (!this.base || this.d.info.annexUuid === null) return;
    const edges = ownWireEdges(this.base).map((e) => ({
      ...e,
      reachable: e.reachable && this.d.outcomes.lastPushOk(e.remote) !== false,
    }));
    const own: OwnEdges = { self: this.d.info.annexUuid, edges };
    const text = JSON.stringify(own);
    if (!force && text === this.lastSent) return;
    this.lastSent = text;
    this.d.outbox.announceEdges(own);
  }
}

export interface NetworkMapDeps extends Omit<MapServiceDeps, 'refreshMs' | 'staleMs'> {
  bus: EventBus;
  /** autosync.xmpp.jid: the map is told to and by peers only over XMPP. */
  jid: string | null;
}

/** The map service of an annex-mode agent with XMPP (null otherwise), told of transfers that failed. */
export function networkMap(d: NetworkMapDeps): MapService | null {
  if (!d.jid || d.info.mode !== 'annex') return null;
  const map = new MapService(d);
  d.bus.on('transferChanged', (e) => {
    if (e.state === 'failed') map.transferFailed(e.key, e.remote);
  });
  return map;
}
