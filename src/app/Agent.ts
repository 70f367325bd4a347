// The composition root: builds the services in dependency order, each from one deps object, and
// hands them to the supervisor in the order they start. Which service waits on what and what each
// produces, with the data-flow picture: docs/architecture.md, "The agent". Work moves only along
// its arrows (queues and wake-ups, each with one owner); the event bus carries status, never work.
import { statePaths } from '../git/state-paths.js';
import { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import { GitSync } from '../git/sync.js';
import { EventBus } from '../core/bus.js';
import { Supervisor } from '../core/service.js';
import { Wakeup } from '../core/queue.js';
import type { Logger } from '../core/log.js';
import { background } from '../core/background.js';
import { Committer } from '../agent/committer.js';
import { OwnWrites } from '../agent/committer-own.js';
import { Merger } from '../agent/merger.js';
import { Pusher } from '../agent/pusher.js';
import type { AgentConfig } from '../agent/config.js';
import { acquirePidLock, type PidLock } from '../agent/lock.js';
import { PausedRemotes, PauseState } from '../agent/pause.js';
import type { ControlServer } from '../control/server.js';
import type { StatusJson } from '../status/types.js';
import { repairInterruptedFills } from '../transfer/repair.js';
import { Peers, peerSignal } from './peers.js';
import { restoringStateWatch } from './restore.js';
import { drivesWatch } from './drives.js';
import { networkWatch } from './network.js';
import { treeWatch } from './tree-watch.js';
import { AvailableRemotes } from '../agent/mounts.js';
import { annexHeldDeletions, annexTransfers } from './annex-routing.js';
import { LiveConfig, RemoteList } from './live.js';
import { reloadingConfigWatch } from './reload.js';
import { AfterWork } from './after-work.js';
import { AfterPush } from './after-push.js';
import { agentLogger, gitTrace, openRepo, startUp } from './process.js';
import { agentControl, agentStatus, type Running, type SurfaceDeps } from './surface.js';
import { localRefsWatch, networkPoll } from './local-signals.js';
import { networkMap } from './map-service.js';
import { MapOutbox } from '../signal/map-outbox.js';
import { PushOutcomes } from '../agent/push-outcomes.js';

export interface AgentOptions {
  /** Log to stderr too (pretty on a TTY, JSON lines otherwise). */
  foreground?: boolean;
  debug?: boolean;
}

export class Agent {
  readonly bus = new EventBus();
  readonly log: Logger;
  readonly runner: Runner;
  readonly sync: GitSync;
  /** The settings in use; the reload changes the live ones (config-watch.ts LIVE_KEYS). */
  private readonly live: LiveConfig;
  private readonly remotes = new RemoteList();
  private readonly supervisor: Supervisor;
  private readonly control: ControlServer;
  private lock: PidLock | null = null;
  private running: Running | null = null;
  private stopping: Promise<void> | null = null;
  private stoppedResolve: () => void = () => {};
  /** Resolves when the agent has stopped (by `stop`, a signal, or the control socket). */
  readonly stopped: Promise<void>;

  private constructor(
    readonly info: RepoInfo,
    config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.log = agentLogger(info, opts);
    this.runner = new Runner(info.workTree, { trace: gitTrace(this.log) });
    this.live = new LiveConfig(config);
    this.sync = new GitSync({
      info,
      runner: this.runner,
      log: this.log,
      settings: () => this.live.commitSettings(),
    });
    this.supervisor = new Supervisor(this.log, this.bus);
    this.control = agentControl(this.surface);
    this.stopped = new Promise((r) => (this.stoppedResolve = r));
  }

  static async open(path: string, opts: AgentOptions = {}): Promise<Agent> {
    const { info, config } = await openRepo(path);
    return new Agent(info, config, opts);
  }

  async start(): Promise<void> {
    this.lock = acquirePidLock(statePaths(this.info.stateDir).pid);
    try {
      await this.startLocked(this.lock);
    } catch (e) {
      await this.supervisor.stopAll().catch(() => undefined);
      await this.control.stop().catch(() => undefined);
      this.lock.release();
      throw e;
    }
  }

  private async startLocked(lock: PidLock): Promise<void> {
    const { info, log, bus, runner, sync, live, remotes } = this;
    const config = live.config;
    const keyBytes = await startUp({ info, log, lock, config, sync, runner, remotes });
    const base = { info, log, bus, runner, sync };
    const remoteNames = () => remotes.names();
    const jid = config.xmpp.jid;
    // Created first, each with one writer, shared by the services below: the push requests (anyone
    // asks, the pusher waits), the remotes paused and those whose drive is away (the pusher skips
    // them, the merger does not fetch them), the files git-annex filled (the transfers write, the
    // committer reads), the last push outcomes (the pusher writes, the map reads), what the map
    // tells the peers (the map writes, the XMPP transport sends).
    const pushWanted = new Wakeup();
    const paused = new PausedRemotes();
    const mounts = new AvailableRemotes();
    const ownWrites = new OwnWrites(info.workTree);
    const outcomes = new PushOutcomes();
    const outbox = new MapOutbox(log);

    // The services, in dependency order. The network map (annex mode with XMPP) first: the
    // transfers follow its plans. Then the transfers: what follows a commit (a push request, its
    // new keys) and the committer's held deletions ask them.
    const map = networkMap({ ...base, jid, outbox, outcomes, planner: config.planner });
    const routing = map?.routing() ?? null;
    const slots = config.transferSlots;
    const transfers = annexTransfers({ ...base, slots, pushWanted, ownWrites, routing });
    const after = new AfterWork({ runner, log, pushWanted, transfers });
    const committer = new Committer({
      ...base,
      ownWrites,
      onCommitted: (c) => after.committed(c),
      holdDeletions: transfers ? annexHeldDeletions(info, transfers) : null,
    });
    const merger = new Merger({
      ...base,
      remotes: remoteNames,
      paused: (r) => paused.has(r) || !mounts.isAvailable(r),
      local: committer,
      onCommitted: (c) => after.committed(c),
      onFetched: () => pushWanted.request(),
      onMerged: (merges, annexMoved, before) => after.merged(merges, annexMoved, before),
    });
    const peers = new Peers({ ...base, merger });
    const { watcher, scanPoll } = treeWatch({ ...base, committer });
    // The refs watch always runs: pushes into this clone and into local bare remotes are signals too.
    const refsWatch = localRefsWatch({ ...base, live, remotes, merger, committer, pushWanted });
    if (jid) await peers.loadRemoteUuids();
    // With XMPP: peers' signals come in, ours go out, and so do the map's edges and plans.
    const debug = this.opts.debug;
    const xmpp = jid
      ? peerSignal({ ...base, jid, config, debug, peers, merger, transfers, map, outbox })
      : null;
    const signal = xmpp ?? refsWatch;
    const afterPush = new AfterPush({ ...base, peers, signal, live, map });
    const pusher = new Pusher({
      ...base,
      remotes: remoteNames,
      merger,
      onPushed: (results) => afterPush.pushed(results),
      retryMaxMs: config.retryMaxMs,
      wake: pushWanted,
      paused,
      available: (r) => mounts.isAvailable(r),
      outcomes,
      onBack: (r) => transfers?.remoteBack(r),
    });
    // A drive mounted again: git first, then content (app/drives.ts).
    const drives = drivesWatch({ ...base, away: mounts, merger, pusher, transfers, map });
    const poll = networkPoll({ live, remotes, merger });
    // The network back, or a wake from sleep: reconnect and resync now (app/network.ts).
    const network = networkWatch({ log, runner, signal: xmpp, merger, pusher, transfers });
    // Remotes and settings changed while we run are picked up without a restart (app/reload.ts).
    const targets = { merger, pusher, poll, transfers, peers: jid ? peers : null };
    const supervisor = this.supervisor;
    const configWatch = reloadingConfigWatch({ ...base, live, remotes, supervisor, refsWatch, targets, map });
    // A pause outlives a restart: the user asked for it, and only `resume` lifts it.
    const pause = new PauseState(info.stateDir, { pusher, transfers });
    // The state directory removed under us: put back what others find us by (app/restore.ts).
    const stateWatch = restoringStateWatch(info.gitDir, {
      stateDir: info.stateDir,
      keyFile: config.keyFile,
      keyBytes,
      log,
      lock,
      control: this.control,
      pause,
      stopping: () => this.stopping !== null,
      stop: this.surface.stop,
    });
    this.running = { committer, merger, pusher, signal, transfers, pause, after, afterPush, mounts, map };

    // The order they start in (and stop in, reversed). The drives first: a drive already away is
    // never tried at start. The state watch is last, so it stops first: a stop removes the pid file
    // and the socket itself.
    const first = [drives, watcher, committer, scanPoll, merger, pusher, refsWatch];
    const optional = [transfers, xmpp, map].filter((x) => x !== null);
    for (const s of [...first, ...optional, poll, network, configWatch, stateWatch]) supervisor.add(s);
    pause.applyToPusher(remoteNames());
    if (info.mode === 'annex') await repairInterruptedFills(runner, info.gitDir, log);
    await supervisor.startAll();
    pause.applyToTransfers();
    await this.control.start();
    log.info({ pid: process.pid }, 'agent running');
  }

  /** Clean stop: pending changes are committed (the committer's stop flushes), then everything halts. */
  stop(): Promise<void> {
    this.stopping ??= this.halt();
    return this.stopping;
  }

  private async halt(): Promise<void> {
    this.log.info('agent stopping');
    await this.control.stop().catch(() => undefined);
    await this.supervisor.stopAll();
    // The final commit is pushed once, best effort, so a stop does not strand work locally.
    if (this.running) await this.running.pusher.pushAll().catch(() => undefined);
    await this.running?.afterPush.stop();
    this.lock?.release();
    this.log.info('agent stopped');
    this.log.flush();
    this.stoppedResolve();
  }

  status(): Promise<StatusJson> {
    return agentStatus(this.surface);
  }

  /** What the control verbs and the status read. */
  private get surface(): SurfaceDeps {
    return {
      info: this.info,
      sync: this.sync,
      supervisor: this.supervisor,
      running: () => this.running,
      remoteNames: () => this.remotes.names(),
      stop: () => background(this.stop(), this.log, 'stopping'),
    };
  }
}
