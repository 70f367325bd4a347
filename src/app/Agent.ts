// The composition root: builds the services in order and hands them to the supervisor.
//
//   watcher ──paths──▶ committer ──commit──▶ pusher ──push──▶ remotes, signal.announce, hook
//   refs watch / XMPP signal ──▶ merger (fetch queue per remote, merge) ──merged──▶ pusher
//   (annex) committer/merger ──keys──▶ transfers ──location log changed──▶ pusher
//
// Work moves only along these arrows (queues and wake-ups, each with one owner). The event bus
// carries status for watchers (CLI, tests) and never work.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Runner, takeSecretEnv } from '../git/runner.js';
import { annexTmpEntries, heldDeletions } from '../git/annex-replace.js';
import { discover, ensureStateDir, ensureKeyFile, requireKeyFile, type RepoInfo } from '../git/repo.js';
import { GitSync, type PushResult } from '../git/sync.js';
import { ignoreMatcher } from '../git/transient.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { EventBus } from '../core/bus.js';
import { Supervisor, type Service } from '../core/service.js';
import { Watcher } from '../agent/watcher.js';
import { ScanPoll } from '../agent/scan-poll.js';
import { Committer } from '../agent/committer.js';
import { Merger } from '../agent/merger.js';
import { Pusher } from '../agent/pusher.js';
import { loadConfig, type AgentConfig } from '../agent/config.js';
import { acquirePidLock, type PidLock } from '../agent/lock.js';
import { ControlServer } from '../control/server.js';
import { handleControl } from '../control/handlers.js';
import { buildStatus } from '../status/build.js';
import type { StatusJson } from '../status/types.js';
import { PausedRemotes, PauseState } from '../agent/pause.js';
import { Wakeup } from '../core/queue.js';
import { Peers, createXmpp } from './peers.js';
import { restoreStateDir } from './restore.js';
import { repairInterruptedFills } from '../transfer/repair.js';
import { TransferService } from '../transfer/service.js';
import { filesAfterMerge, keysAfterCommit } from './annex-routing.js';
import type { CommitResult } from '../git/sync.js';
import { RemotePoll, pollTargets } from '../agent/remote-poll.js';
import { ConfigWatch, configChanges } from '../agent/config-watch.js';
import { RefsWatch } from '../signal/refs-watch.js';
import { HookSignaller } from '../signal/hook.js';
import type { SignalTransport } from '../signal/types.js';
import { createLogger, type Logger } from '../core/log.js';
import { StateWatch, watchedStateFiles } from '../agent/state-watch.js';
import type { LargeFile } from '../git/large-files.js';
import { background } from '../core/background.js';

/** status lists at most this many large-file warnings (the newest). */
const MAX_WARNINGS = 20;

/** One process-wide handler (see startLocked), however many agents a process opens (tests). */
let rejectionsLogged = false;

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
  private supervisor: Supervisor;
  private committer!: Committer;
  private merger!: Merger;
  private pusher!: Pusher;
  /** What peers are told through: XMPP when an account is set, else the refs watch. */
  private signal!: SignalTransport;
  private refsWatch!: RefsWatch;
  private hook!: HookSignaller;
  private pause!: PauseState;
  private peers!: Peers;
  /** Large files committed into git itself since the agent started (see git/large-files.ts). */
  private largeFiles: LargeFile[] = [];
  /** Annex mode only: moves content (flood sync, the cloud bridge). */
  private transfers: TransferService | null = null;
  private control: ControlServer;
  private lock: PidLock | null = null;
  private remoteList: Array<{ name: string; url: string }> = [];
  private poll: RemotePoll | null = null;
  private stopping: Promise<void> | null = null;
  /** Paths committed since start (every own commit), so `sync` can say what it committed. */
  private filesCommitted = 0;
  /** The key file's bytes, read at start (see app/restore.ts). */
  private keyBytes: Buffer | null = null;
  private stateWatch: StateWatch | null = null;
  /** The settings as last read from the git config, applied or not (for the next comparison). */
  private lastRead!: AgentConfig;
  /** The post-push notification under way (announce, then the hook), so stop can wait for it. */
  private notifying: Promise<void> = Promise.resolve();
  private stoppedResolve!: () => void;
  /** Resolves when the agent has stopped (by `stop`, a signal, or the control socket). */
  readonly stopped: Promise<void>;

  private constructor(
    readonly info: RepoInfo,
    /** The settings in use; reloadConfig() changes the live ones (config-watch.ts LIVE_KEYS). */
    public config: AgentConfig,
    private readonly opts: AgentOptions,
  ) {
    this.log = createLogger({
      file: join(info.stateDir, 'agent.log'),
      stderr: opts.foreground === true,
      level: opts.debug ? 'debug' : undefined,
    });
    this.runner = new Runner(info.workTree);
    if (this.log.isLevelEnabled('trace')) {
      this.runner.trace = (args, waitMs, runMs) =>
        this.log.trace(
          { git: args.slice(0, 3).join(' '), waitMs: Math.round(waitMs), runMs: Math.round(runMs) },
          'git',
        );
    }
    this.sync = new GitSync(info, this.runner, this.log);
    this.sync.largeFileWarning = config.largeFileWarning;
    this.supervisor = new Supervisor(this.log, this.bus);
    this.control = new ControlServer(join(info.stateDir, 'control.sock'), (req) =>
      handleControl(
        {
          status: () => this.status(),
          stop: () => background(this.stop(), this.log, 'stopping'),
          remoteNames: () => this.remoteList.map((r) => r.name),
          pause: this.pause,
          committer: this.committer,
          sync: this.sync,
          merger: this.merger,
          pusher: this.pusher,
          transfers: this.transfers,
          filesCommitted: () => this.filesCommitted,
        },
        req,
      ),
    );
    this.stopped = new Promise((r) => (this.stoppedResolve = r));
  }

  static async open(path: string, opts: AgentOptions = {}): Promise<Agent> {
    // The XMPP password in our environment is kept in memory for reconnects, out of every child's.
    takeSecretEnv();
    const info = await discover(path);
    const config = await loadConfig(new Runner(info.workTree), info);
    // With XMPP a key must exist before anything is made here (not even the state directory).
    if (config.xmpp.jid) requireKeyFile(config.keyFile);
    ensureStateDir(info);
    return new Agent(info, config, opts);
  }

  async start(): Promise<void> {
    this.lock = acquirePidLock(join(this.info.stateDir, 'agent.pid'));
    try {
      await this.startLocked();
    } catch (e) {
      await this.supervisor.stopAll().catch(() => undefined);
      await this.control.stop().catch(() => undefined);
      this.lock.release();
      throw e;
    }
  }

  private async startLocked(): Promise<void> {
    // Without XMPP the key only names the repository in signals nobody checks yet: made here if
    // missing, as before. With XMPP only init makes it (see requireKeyFile).
    if (this.config.xmpp.jid) requireKeyFile(this.config.keyFile);
    else ensureKeyFile(this.config.keyFile);
    // Kept in memory, byte for byte, to put back if the file is removed while we run.
    this.keyBytes = readFileSync(this.config.keyFile);
    this.log.info(
      { repo: this.info.workTree, mode: this.info.mode, recovered: this.lock!.recovered },
      'agent starting',
    );
    // A rejected promise nobody awaited is a bug of ours, but it must not end the agent (Node's
    // default): syncing would stop with nothing in the log. Record it and keep going.
    if (!rejectionsLogged) {
      rejectionsLogged = true;
      process.on('unhandledRejection', (err) => {
        this.log.error(
          { err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
          'unhandled rejection (a bug); the agent keeps running',
        );
      });
    }
    // After a kill -9: a dead git's index.lock, a half-done merge. Instant, never a timeout.
    await this.sync.recover();
    this.remoteList = await this.runner.run(remotesCmd());
    if (this.remoteList.length === 0) this.log.warn('no remotes configured: committing locally only');
    const remoteNames = () => this.remoteList.map((r) => r.name);

    this.hook = new HookSignaller(() => this.config.notifyCommand, this.info.workTree, this.log);
    // Built before the services that share them: the pusher's requests (anyone asks, the pusher
    // alone waits) and the remotes paused now (the pusher skips them, the merger does not fetch them).
    const pushWanted = new Wakeup();
    const paused = new PausedRemotes();
    this.lastRead = this.config;
    this.committer = new Committer(this.sync, this.log, this.bus, (c) => this.onCommitted(c));
    this.merger = new Merger({
      sync: this.sync,
      log: this.log,
      bus: this.bus,
      remotes: remoteNames,
      paused: (r) => paused.has(r),
      onFetched: () => pushWanted.request(),
      onMerged: (merges, annexMoved, before) => {
        pushWanted.request();
        if (this.transfers)
          filesAfterMerge(this.runner, this.log, this.transfers, merges, annexMoved, before);
      },
    });
    this.peers = new Peers({ runner: this.runner, info: this.info, log: this.log, merger: this.merger });
    this.pusher = new Pusher({
      sync: this.sync,
      log: this.log,
      bus: this.bus,
      remotes: remoteNames,
      merger: this.merger,
      onPushed: (results) => this.onPushed(results),
      retryMaxMs: this.config.retryMaxMs,
      wake: pushWanted,
      paused,
    });
    this.sync.flushHook = () => this.committer.flush();
    this.sync.onOwnCommit = (c) => this.onCommitted(c);
    this.sync.ignore = ignoreMatcher(this.config.ignore);
    this.sync.leaveOut = (paths) => this.committer.beingWritten(paths);
    // Every commit asks, as it stages a deletion, whether git-annex is filling that file instead.
    this.sync.holdAbsent = (paths) => this.committer.holdAbsent(paths);
    this.sync.onRawStaged = (paths, ms) => this.committer.retryLater(paths, ms);
    // Idle until the watcher runs out of kernel watches; then the tree is scanned every few seconds.
    const scanPoll = new ScanPoll({ scan: () => this.committer.noteDir('') });
    const watcher = new Watcher({
      workTree: this.info.workTree,
      runner: this.runner,
      log: this.log,
      onChange: (p) => this.committer.note(p),
      scanDir: (d) => this.committer.noteDir(d),
      onWatchLimit: () => scanPoll.activate(),
      maxWatches: maxWatchesFromEnv(),
    });
    // The refs watch always runs: pushes into this clone and into local bare remotes are signals too.
    this.refsWatch = new RefsWatch({
      gitDir: this.info.gitDir,
      workTree: this.info.workTree,
      branch: this.info.branch,
      remotes: () => (this.config.watchRemotes ? this.remoteList : []),
      onLocalRefs: () => this.merger.requestMerge(),
      onRemoteRefs: (r) => this.merger.requestFetch([r]),
      // A commit made by hand (or a reset) moves the branch without telling the committer: it is a
      // change to push all the same. needsPush compares with the tracking refs, so the agent's own
      // commits (already pushed or about to be) cost one for-each-ref per remote, and nothing loops.
      onBranchMoved: () => this.pusher.request(),
      // A commit inside a submodule is a new gitlink here: the committer records it (GitSync.gitlinks).
      submodules: () => this.sync.submodules(),
      onSubmoduleMoved: (path) => this.committer.note(path),
      log: this.log,
    });
    this.signal = this.refsWatch;
    const services: Service[] = [watcher, this.committer, scanPoll, this.merger, this.pusher, this.refsWatch];
    if (this.info.mode === 'annex') {
      this.transfers = new TransferService({
        runner: this.runner,
        repoDir: this.info.workTree,
        autosyncDir: this.info.stateDir,
        log: this.log,
        bus: this.bus,
        slots: this.config.transferSlots,
        // Content moved and git-annex logged where it is now: push the git-annex branch, which
        // also signals the peers.
        onLocationsChanged: () => this.pusher.request(),
        // git-annex filled a file with its content: not an edit to commit (see Committer.ownWrite).
        onDownloaded: (file, size) => this.committer.ownWrite(file, size),
      });
      services.push(this.transfers);
      // git-annex unlinks a file before it fills it with content: that absence is not a deletion.
      const transfers = this.transfers;
      this.committer.holdDeletions = (paths) =>
        heldDeletions(paths, annexTmpEntries(this.info.gitDir), transfers.fillingFiles());
    }
    if (this.config.xmpp.jid) {
      await this.peers.loadRemoteUuids();
      const peers = this.peers;
      this.signal = createXmpp({
        jid: this.config.xmpp.jid,
        config: this.config,
        info: this.info,
        log: this.log,
        bus: this.bus,
        debug: this.opts.debug,
        onPeerRefs: (refs, pushedTo) =>
          background(peers.onPeerRefs(refs, pushedTo), this.log, 'acting on a peer signal'),
        onConnected: () => {
          // Catch up after being offline or asleep: fetch everything, merge, and tell peers our refs.
          this.merger.requestFetch();
          this.transfers?.requestScan();
          void peers.announceOwnRefs(this.signal, []).catch(() => undefined);
        },
      });
      services.push(this.signal);
    }
    // Network remotes that nothing else signals (XMPP off) are fetched now and then.
    this.poll = new RemotePoll(
      this.config.pollMs,
      () => pollTargets(this.remoteList, this.config.xmpp.jid !== null),
      (remotes) => this.merger.requestFetch(remotes),
    );
    services.push(this.poll);
    // Remotes and settings changed while we run are picked up without a restart.
    services.push(
      new ConfigWatch(this.info.gitDir, () =>
        background(
          this.reloadConfig().then(() => this.reloadRemotes()),
          this.log,
          'reloading the git config',
        ),
      ),
    );
    // The state directory removed under us: put back what others find us by (app/restore.ts).
    // Last in the list, so it stops first: a stop removes the pid file and the socket itself.
    this.stateWatch = new StateWatch(
      this.info.gitDir,
      this.info.stateDir,
      watchedStateFiles(this.info.stateDir, this.config.keyFile),
      (missing) =>
        background(
          restoreStateDir(
            {
              stateDir: this.info.stateDir,
              keyFile: this.config.keyFile,
              keyBytes: this.keyBytes,
              log: this.log,
              lock: this.lock!,
              control: this.control,
              pause: this.pause,
              stopping: () => this.stopping !== null,
              stop: () => background(this.stop(), this.log, 'stopping'),
              rearm: () => this.stateWatch?.rearm(),
            },
            missing,
          ),
          this.log,
          'restoring the state directory',
        ),
    );
    // A pause outlives a restart: the user asked for it, and only `resume` lifts it.
    this.pause = new PauseState(this.info.stateDir, { pusher: this.pusher, transfers: this.transfers });
    this.pause.applyToPusher(remoteNames());
    services.push(this.stateWatch);
    for (const s of services) this.supervisor.add(s);
    if (this.info.mode === 'annex') await repairInterruptedFills(this.runner, this.info.gitDir, this.log);
    await this.supervisor.startAll();
    this.pause.applyToTransfers();
    await this.control.start();
    this.log.info({ pid: process.pid }, 'agent running');
  }

  /** Clean stop: pending changes are committed (the committer's stop flushes), then everything halts. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        this.log.info('agent stopping');
        await this.control.stop().catch(() => undefined);
        await this.supervisor.stopAll();
        // The final commit is pushed once, best effort, so a stop does not strand work locally.
        if (this.pusher) await this.pusher.pushAll().catch(() => undefined);
        // A notifyCommand still running (that final push's, or a hung one) is ended with all it
        // started: nothing of ours outlives the agent.
        await this.notifying;
        await this.hook?.stop();
        this.lock?.release();
        this.log.info('agent stopped');
        this.log.flush();
        this.stoppedResolve();
      })();
    }
    return this.stopping;
  }

  /**
   * The git config changed: read the autosync settings again, apply those that can change while we
   * run, and say which changed ones take a restart (one warning naming them). A bad value keeps the
   * settings in use, with a warning saying what to fix.
   */
  private async reloadConfig(): Promise<void> {
    let next: AgentConfig;
    try {
      next = await loadConfig(this.runner, this.info);
    } catch (e) {
      this.log.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'the git config has a bad autosync setting; the agent keeps its current settings',
      );
      return;
    }
    const { live, restart } = configChanges(this.lastRead, next);
    this.lastRead = next;
    if (restart.length > 0) {
      this.log.warn(
        { keys: restart },
        `changed in the git config, used only after a restart (git autosync stop, then start): ${restart.join(', ')}`,
      );
    }
    if (live.length === 0) return;
    const old = this.config;
    this.config = {
      ...old,
      notifyCommand: next.notifyCommand,
      watchRemotes: next.watchRemotes,
      retryMaxMs: next.retryMaxMs,
      pollMs: next.pollMs,
      transferSlots: next.transferSlots,
      largeFileWarning: next.largeFileWarning,
      ignore: next.ignore,
    };
    this.sync.largeFileWarning = next.largeFileWarning;
    this.sync.ignore = ignoreMatcher(next.ignore);
    this.log.info({ keys: live }, `settings changed in the git config, in use now: ${live.join(', ')}`);
    if (old.retryMaxMs !== next.retryMaxMs) this.pusher.setRetryMax(next.retryMaxMs);
    if (old.pollMs !== next.pollMs) this.poll?.setPeriod(next.pollMs);
    if (old.transferSlots !== next.transferSlots) this.transfers?.setSlots(next.transferSlots);
    if (old.watchRemotes !== next.watchRemotes) await this.supervisor.restart(this.refsWatch.name);
  }

  /**
   * The git config changed: read the remotes again. New ones are fetched and pushed to at once, a
   * removed one is simply no longer used, and the refs watch follows the local bare ones. Reading
   * writes nothing, so this cannot loop on its own config event.
   */
  private async reloadRemotes(): Promise<void> {
    try {
      const next = await this.runner.run(remotesCmd());
      const id = (r: { name: string; url: string }) => `${r.name}\n${r.url}`;
      if (next.map(id).join('\0') === this.remoteList.map(id).join('\0')) return;
      const known = new Set(this.remoteList.map(id));
      const added = next.filter((r) => !known.has(id(r))).map((r) => r.name);
      this.log.info(
        { remotes: next.map((r) => r.name), added },
        'remotes changed in the git config; using the new list',
      );
      this.remoteList = next;
      if (this.config.xmpp.jid) await this.peers.loadRemoteUuids();
      await this.supervisor.restart(this.refsWatch.name);
      this.poll?.refresh();
      if (added.length > 0) this.merger.requestFetch(added);
      this.pusher.request();
      this.transfers?.requestScan();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'could not read the remotes after a config change');
    }
  }

  private onCommitted(c: CommitResult): void {
    this.filesCommitted += c.added + c.modified + c.deleted;
    this.pusher.request();
    for (const f of c.large ?? []) {
      this.log.warn({ path: f.path, size: f.size, sha: c.sha }, f.message);
      // The newest first, one per path, bounded: status shows what to look at, not a history.
      this.largeFiles = [f, ...this.largeFiles.filter((x) => x.path !== f.path)].slice(0, MAX_WARNINGS);
    }
    if (this.transfers) keysAfterCommit(this.runner, this.log, this.transfers, c);
  }

  private onPushed(results: PushResult[]): void {
    const p = (async () => {
      const remotes = results.map((r) => r.remote);
      const refs = await this.peers.announceOwnRefs(this.signal, remotes);
      this.hook.notify({ remotes, refs });
    })().catch((e) => this.log.warn({ err: String(e) }, 'post-push notification failed'));
    this.notifying = Promise.all([this.notifying, p]).then(() => undefined);
  }

  async status(): Promise<StatusJson> {
    return buildStatus({
      info: this.info,
      sync: this.sync,
      committer: this.committer,
      merger: this.merger,
      pusher: this.pusher,
      signal: this.signal,
      transfers: this.transfers,
      supervisor: this.supervisor,
      largeFiles: () => this.largeFiles,
    });
  }
}

/**
 * GIT_AUTOSYNC_MAX_WATCHES=N: the watcher behaves as if the kernel allowed only N watches (a
 * positive integer; anything else is ignored). For tests of the watch limit without lowering the
 * machine-wide fs.inotify.max_user_watches, which every other program of the user shares.
 */
function maxWatchesFromEnv(): number | undefined {
  const v = process.env.GIT_AUTOSYNC_MAX_WATCHES;
  return v && /^[1-9][0-9]{0,8}$/.test(v) ? Number(v) : undefined;
}
