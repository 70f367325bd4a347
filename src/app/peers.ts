// What the agent tells its peers, and what it does with what they tell it. Waits on a verified peer
// signal (XMPP) and on pushes done; produces fetch or merge requests for the merger's queue, and
// announcements of our refs (with the annex uuids of the remotes just pushed to). peerSignal also
// hands the peers' edges and plans to the network map, and sends what the map's outbox holds.
import { readRemoteUuids } from '../annex/remotes.js';
import { createHash } from 'node:crypto';
import type { Runner } from '../git/runner.js';
import { readKey, type RepoInfo } from '../git/repo.js';
import { isSha } from '../git/sha.js';
import type { Logger } from '../core/log.js';
import { background } from '../core/background.js';
import type { EventBus } from '../core/bus.js';
import type { Merger } from '../agent/merger.js';
import type { AgentConfig } from '../agent/config.js';
import { createTransport, defaultResource, findPassword } from '../signal/index.js';
import type { KeyPlan, PeerEdges, SignalTransport } from '../signal/types.js';
import type { MapOutbox } from '../signal/map-outbox.js';
import type { MapService } from './map-service.js';

export interface PeersDeps {
  runner: Runner;
  info: RepoInfo;
  log: Logger;
  merger: Pick<Merger, 'requestFetch' | 'requestMerge'>;
}

export class Peers {
  /** annex.uuid of each remote (annex mode), to map a signal's pushedTo ids to remotes we can fetch. */
  private readonly remoteUuids = new Map<string, string>();

  constructor(private readonly d: PeersDeps) {}

  async loadRemoteUuids(): Promise<void> {
    // Added to, as before: a remote removed from the config keeps its entry until restart.
    for (const [name, uuid] of await readRemoteUuids(this.d.runner)) this.remoteUuids.set(name, uuid);
  }

  /** Tell the peers our refs; `remotes` are those just pushed to. */
  async announceOwnRefs(
    signal: Pick<SignalTransport, 'announce'>,
    remotes: string[],
  ): Promise<Record<string, string>> {
    const refs = await this.ownRefs();
    const pushedTo = remotes.map((r) => this.remoteUuids.get(r)).filter((u): u is string => u !== undefined);
    signal.announce({ refs, pushedTo });
    return refs;
  }

  /**
   * A verified signal from a peer. Nothing in it becomes a path, URL or option: SHAs are checked
   * against our object store through stdin, and pushedTo ids only select among our own remotes.
   */
  async onPeerRefs(refs: Record<string, string>, pushedTo: string[]): Promise<void> {
    try {
      const shas = Object.values(refs).filter(isSha);
      const r = await this.d.runner.git(['cat-file', '--batch-check=%(objectname)'], {
        input: shas.join('\n') + '\n',
      });
      const missing = r.stdout.split('\n').filter((l) => l.endsWith(' missing')).length;
      if (missing === 0) {
        // We have every commit already: at most a merge is left to do, no fetch.
        this.d.merger.requestMerge();
        return;
      }
      const byUuid = new Map([...this.remoteUuids].map(([name, uuid]) => [uuid, name]));
      const targets = pushedTo.map((id) => byUuid.get(id)).filter((n): n is string => n !== undefined);
      this.d.merger.requestFetch(targets.length > 0 ? targets : undefined);
    } catch (e) {
      this.d.log.warn({ err: String(e) }, 'could not act on a peer signal; fetching everything');
      this.d.merger.requestFetch();
    }
  }

  private async ownRefs(): Promise<Record<string, string>> {
    return this.d.runner.run({
      args: [
        'for-each-ref',
        '--format=%(objectname) %(refname)',
        `refs/heads/${this.d.info.branch}`,
        'refs/heads/git-annex',
      ],
      parse: (r) =>
        Object.fromEntries(
          r.stdout
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(' ').reverse() as [string, string]),
        ),
    });
  }
}

/**
 * The repository id in signals: the same on every clone that shares the key, different for every
 * other repository (autosync.repoId overrides). Derived, so pairing needs only the key copied.
 */
export function repoId(config: AgentConfig, key: Buffer): string {
  return (
    config.repoId ??
    createHash('sha256').update('git-autosync repository id\0').update(key).digest('hex').slice(0, 32)
  );
}

export interface XmppDeps {
  jid: string;
  config: AgentConfig;
  info: RepoInfo;
  log: Logger;
  bus: EventBus;
  debug: boolean | undefined;
  onPeerRefs: (refs: Record<string, string>, pushedTo: string[]) => void;
  onConnected: () => void;
  /** A peer's verified edges (annex mode: app/map-service.ts); absent, they are not listened to. */
  onPeerEdges?: (e: PeerEdges) => void;
  /** A key's tree from the clone that added it (app/map-service.ts). */
  onPeerPlan?: (node: string, plan: KeyPlan) => void;
  /** What the network map wants sent (signal/map-outbox.ts); the transport drains it. */
  mapOutbox?: MapOutbox;
}

export interface PeerSignalDeps extends Omit<
  XmppDeps,
  'onPeerRefs' | 'onConnected' | 'onPeerEdges' | 'onPeerPlan' | 'mapOutbox'
> {
  peers: Peers;
  /** The network map (annex mode), built before us: it hears the peers' edges and plans. Null:
   * they are not listened to. */
  map: Pick<MapService, 'onPeerEdges' | 'onPeerPlan'> | null;
  /** What the map wrote to be sent (signal/map-outbox.ts); we drain it while we run. */
  outbox: MapOutbox;
  merger: Pick<Merger, 'requestFetch'>;
  transfers: { requestScan(): void } | null;
}

/** The XMPP transport, acting on peers' signals (Peers) and catching up whenever it connects. */
export function peerSignal(d: PeerSignalDeps): SignalTransport {
  const map = d.map;
  const signal: SignalTransport = createXmpp({
    ...d,
    onPeerEdges: map ? (e) => map.onPeerEdges(e) : undefined,
    onPeerPlan: map ? (node, p) => map.onPeerPlan(node, p) : undefined,
    mapOutbox: d.outbox,
    onPeerRefs: (refs, pushedTo) =>
      background(d.peers.onPeerRefs(refs, pushedTo), d.log, 'acting on a peer signal'),
    onConnected: () => {
      // Catch up after being offline or asleep: fetch everything, merge, and tell peers our refs.
      d.merger.requestFetch();
      d.transfers?.requestScan();
      void d.peers.announceOwnRefs(signal, []).catch(() => undefined);
    },
  });
  return signal;
}

/** The XMPP transport of autosync.xmpp.* (a room, or the same account). */
export function createXmpp(d: XmppDeps): SignalTransport {
  const { jid, config } = d;
  const key = readKey(config.keyFile);
  const resource = config.xmpp.resource ?? defaultResource(d.info.workTree);
  const passwordFile = config.xmpp.passwordFile ?? undefined;
  return createTransport({
    jid,
    service: config.xmpp.service ?? undefined,
    room: config.xmpp.room ?? undefined,
    resource,
    password: async () => (await findPassword({ jid, passwordFile })).password,
    repoId: repoId(config, key),
    // In a room the node id is our nickname, so it must be unique per clone: the resource is.
    nodeId: resource,
    key,
    log: d.log,
    bus: d.bus,
    debug: d.debug,
    handlers: {
      onPeerRefs: (a) => d.onPeerRefs(a.refs, a.pushedTo),
      onConnected: d.onConnected,
      onPeerEdges: d.onPeerEdges,
      onPeerPlan: d.onPeerPlan,
    },
    mapOutbox: d.mapOutbox,
  });
}
