// The composition root: builds the services in order and hands them to the supervisor.
//
//   watcher ──paths──▶ committer ──commit──▶ pusher ──push──▶ remotes, signal.announce, hook
//   refs watch / XMPP signal ──▶ merger (fetch queue per remote, merge) ──merged──▶ pusher
//   (annex) committer/merger ──keys──▶ transfers ──location log changed──▶ pusher
//
// Work moves only along these arrows (queues and wake-ups, each with one owner). The event bus
// carries status for watchers (CLI, tests) and never work.
import { join } from 'node:path';
import { hostname } from 'node:os';
import { Runner } from '../git/runner.js';
import { discover, ensureStateDir, ensureKeyFile, nodeId, type RepoInfo } from '../git/repo.js';
import { GitSync, type PushResult } from '../git/sync.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { EventBus } from './bus.js';
import { Supervisor, type Service } from './service.js';
import { Watcher } from './watcher.js';
import { Committer } from './committer.js';
import { Merger } from './merger.js';
import { Pusher } from './pusher.js';
import { loadConfig, type AgentConfig } from './config.js';
import { acquirePidLock, type PidLock } from './lock.js';
import { ControlServer, type ControlRequest } from './control.js';
import { RefsWatch } from '../signal/refs-watch.js';
import { HookSignaller } from '../signal/hook.js';
import type { SignalTransport, SignalStatus } from '../signal/types.js';
import { createLogger, type Logger } from '../log.js';

export interface AgentOptions {
  /** Log to stderr too (pretty on a TTY, JSON lines otherwise). */
  foreground?: boolean;
  debug?: boolean;
}

export interface StatusJson {
  running: boolean;
  pid: number | null;
  repository: string;
  mode: 'git' | 'annex';
  branch: string;
  head: string | null;
  pendingChanges: number;
  remotes: Array<{
    name: string;
    lastPushOk: boolean | null;
    lastPushAt: string | null;
    paused: boolean;
    error: string | null;
  }>;
  signal: SignalStatus;
  transfers: { queued: number; active: unknown[]; failed: number };
  services?: unknown[];
  node?: string;
  host?: string;
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
  private signal!: SignalTransport;
  private hook!: HookSignaller;
  private control: ControlServer;
  private lock: PidLock | null = null;
  private remoteList: Array<{ name: string; url: string }> = [];
  private stopping: Promise<void> | null = null;
  private stoppedResolve!: () => void;
  /** Resolves when the agent has stopped (by `stop`, a signal, or the control socket). */
  readonly stopped: Promise<void>;

  private constructor(
    readonly info: RepoInfo,
    readonly config: AgentConfig,
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
    this.supervisor = new Supervisor(this.log, this.bus);
    this.control = new ControlServer(join(info.stateDir, 'control.sock'), (req) => this.onControl(req));
    this.stopped = new Promise((r) => (this.stoppedResolve = r));
  }

  static async open(path: string, opts: AgentOptions = {}): Promise<Agent> {
    const info = await discover(path);
    ensureStateDir(info);
    const config = await loadConfig(new Runner(info.workTree), info);
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
    ensureKeyFile(this.config.keyFile);
    this.log.info(
      { repo: this.info.workTree, mode: this.info.mode, recovered: this.lock!.recovered },
      'agent starting',
    );
    // After a kill -9: a dead git's index.lock, a half-done merge. Instant, never a timeout.
    await this.sync.recover();
    this.remoteList = await this.runner.run(remotesCmd());
    if (this.remoteList.length === 0) this.log.warn('no remotes configured: committing locally only');
    const remoteNames = () => this.remoteList.map((r) => r.name);

    this.hook = new HookSignaller(() => this.config.notifyCommand, this.info.workTree, this.log);
    this.pusher = new Pusher(
      this.sync,
      this.log,
      this.bus,
      remoteNames,
      (r) => this.merger.fetchAndMerge(r),
      (results) => this.onPushed(results),
      this.config.retryMaxMs,
    );
    this.committer = new Committer(this.sync, this.log, this.bus, () => this.pusher.request());
    this.merger = new Merger(this.sync, this.log, this.bus, remoteNames, () => this.pusher.request());
    this.merger.paused = (r) => this.pusher.state(r).paused;
    this.sync.flushHook = () => this.committer.flush();
    const watcher = new Watcher(
      this.info.workTree,
      this.runner,
      this.log,
      (p) => this.committer.note(p),
      (d) => this.committer.noteDir(d),
    );
    this.signal = new RefsWatch({
      gitDir: this.info.gitDir,
      workTree: this.info.workTree,
      remotes: () => this.remoteList,
      onLocalRefs: () => this.merger.requestMerge(),
      onRemoteRefs: (r) => this.merger.requestFetch([r]),
    });

    const services: Service[] = [watcher, this.committer, this.merger, this.pusher, this.signal];
    for (const s of services) this.supervisor.add(s);
    await this.supervisor.startAll();
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
        this.lock?.release();
        this.log.info('agent stopped');
        this.log.flush();
        this.stoppedResolve();
      })();
    }
    return this.stopping;
  }

  private onPushed(results: PushResult[]): void {
    void (async () => {
      const refs = await this.runner.run({
        args: [
          'for-each-ref',
          '--format=%(objectname) %(refname)',
          `refs/heads/${this.info.branch}`,
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
      const remotes = results.map((r) => r.remote);
      this.signal.announce({ refs, pushedTo: remotes });
      this.hook.notify({ remotes, refs });
    })().catch((e) => this.log.warn({ err: String(e) }, 'post-push notification failed'));
  }

  private async onControl(req: ControlRequest): Promise<unknown> {
    switch (req.cmd) {
      case 'status':
        return this.status();
      case 'stop':
        setImmediate(() => void this.stop());
        return { stopping: true };
      case 'pause':
      case 'resume': {
        const paused = req.cmd === 'pause';
        if (req.remote && !this.remoteList.some((r) => r.name === req.remote)) {
          throw new Error(`no remote named '${req.remote}'`);
        }
        this.pusher.setPaused(req.remote ?? null, paused);
        return { paused, remote: req.remote ?? null };
      }
      case 'notify':
        this.merger.requestFetch(req.remotes?.filter((r) => this.remoteList.some((x) => x.name === r)));
        return { fetching: true };
      case 'flush':
        await this.committer.flush();
        return { head: await this.sync.head() };
      case 'sync': {
        await this.committer.flush();
        for (const r of this.remoteList)
          if (!this.pusher.state(r.name).paused) await this.merger.fetchAndMerge(r.name);
        const outcome = await this.pusher.pushAll();
        return Object.fromEntries(outcome);
      }
      default:
        throw new Error('unknown command');
    }
  }

  async status(): Promise<StatusJson> {
    return {
      running: true,
      pid: process.pid,
      repository: this.info.workTree,
      mode: this.info.mode,
      branch: this.info.branch,
      head: await this.sync.head(),
      pendingChanges: this.committer.pendingCount,
      remotes: this.pusher.allStates().map((s) => ({
        name: s.name,
        lastPushOk: s.lastPushOk,
        lastPushAt: s.lastPushAt,
        paused: s.paused,
        error: s.error ?? this.merger.fetchErrors.get(s.name) ?? null,
      })),
      signal: this.signal.status(),
      transfers: { queued: 0, active: [], failed: 0 },
      services: this.supervisor.statuses(),
      node: nodeId(this.info),
      host: hostname(),
    };
  }
}
