// The config and remote reload: waits on the config watch (one call per settled burst of writes to
// .git/config); produces the new live settings (LiveConfig), the new remote list (RemoteList), and
// what follows from them: the refs watch restarted, the poll and the retry ceiling and the transfer
// lanes changed, new remotes fetched and pushed to, one warning naming what takes a restart.
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import { remotes as remotesCmd } from '../git/commands.js';
import type { Logger } from '../core/log.js';
import type { Supervisor } from '../core/service.js';
import { loadConfig, type AgentConfig } from '../agent/config.js';
import { ConfigWatch, configChanges } from '../agent/config-watch.js';
import { background } from '../core/background.js';
import type { MapService } from './map-service.js';
import type { Merger } from '../agent/merger.js';
import type { Pusher } from '../agent/pusher.js';
import type { RemotePoll } from '../agent/remote-poll.js';
import type { TransferService } from '../transfer/service.js';
import type { LiveConfig, RemoteEntry, RemoteList } from './live.js';
import type { Peers } from './peers.js';

export interface ReloadDeps {
  runner: Runner;
  info: RepoInfo;
  log: Logger;
  live: LiveConfig;
  remotes: RemoteList;
  supervisor: Supervisor;
  /** Restarted (by its name) when the remotes or watchRemotes change. */
  refsWatch: { readonly name: string };
  /** The services a change is applied to. */
  targets: ReloadTargets;
}

export interface ReloadTargets {
  merger: Pick<Merger, 'requestFetch'>;
  pusher: Pick<Pusher, 'request' | 'setRetryMax'>;
  poll: Pick<RemotePoll, 'setPeriod' | 'refresh'>;
  transfers: Pick<TransferService, 'setSlots' | 'requestScan'> | null;
  /** With XMPP: the remotes' annex uuids are read again (signals name them). */
  peers: Pick<Peers, 'loadRemoteUuids'> | null;
}

/** Whether two remote lists name the same remotes at the same URLs, in order. Pure. */
export function sameRemotes(a: RemoteEntry[], b: RemoteEntry[]): boolean {
  return a.map(remoteId).join('\0') === b.map(remoteId).join('\0');
}

/** The remotes of next that are not in prev (by name and URL), by name. Pure. */
export function addedRemotes(prev: RemoteEntry[], next: RemoteEntry[]): string[] {
  const known = new Set(prev.map(remoteId));
  return next.filter((r) => !known.has(remoteId(r))).map((r) => r.name);
}

function remoteId(r: RemoteEntry): string {
  return `${r.name}\n${r.url}`;
}

export class Reload {
  private readonly d: ReloadDeps;
  /** The settings as last read from the git config, applied or not (for the next comparison). */
  private lastRead: AgentConfig;

  constructor(d: ReloadDeps) {
    this.d = d;
    this.lastRead = d.live.config;
  }

  /** The git config changed: the settings first, then the remotes. */
  async run(): Promise<void> {
    await this.reloadConfig();
    await this.reloadRemotes();
  }

  /**
   * Reads the autosync settings again, applies those that can change while we run, and says which
   * changed ones take a restart (one warning naming them). A bad value keeps the settings in use,
   * with a warning saying what to fix.
   */
  private async reloadConfig(): Promise<void> {
    const d = this.d;
    const t = d.targets;
    let next: AgentConfig;
    try {
      next = await loadConfig(d.runner, d.info);
    } catch (e) {
      d.log.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'the git config has a bad autosync setting; the agent keeps its current settings',
      );
      return;
    }
    const { live, restart } = configChanges(this.lastRead, next);
    this.lastRead = next;
    if (restart.length > 0) {
      d.log.warn(
        { keys: restart },
        `changed in the git config, used only after a restart (git autosync stop, then start): ${restart.join(', ')}`,
      );
    }
    if (live.length === 0) return;
    const old = d.live.config;
    d.live.applyLive(next);
    d.log.info({ keys: live }, `settings changed in the git config, in use now: ${live.join(', ')}`);
    if (old.retryMaxMs !== next.retryMaxMs) t.pusher.setRetryMax(next.retryMaxMs);
    if (old.pollMs !== next.pollMs) t.poll.setPeriod(next.pollMs);
    if (old.transferSlots !== next.transferSlots) t.transfers?.setSlots(next.transferSlots);
    if (old.watchRemotes !== next.watchRemotes) await d.supervisor.restart(d.refsWatch.name);
  }

  /**
   * Reads the remotes again. New ones are fetched and pushed to at once, a removed one is simply no
   * longer used, and the refs watch follows the local bare ones. Reading writes nothing, so this
   * cannot loop on its own config event.
   */
  private async reloadRemotes(): Promise<void> {
    const d = this.d;
    const t = d.targets;
    try {
      const next = await d.runner.run(remotesCmd());
      if (sameRemotes(next, d.remotes.list)) return;
      const added = addedRemotes(d.remotes.list, next);
      d.log.info(
        { remotes: next.map((r) => r.name), added },
        'remotes changed in the git config; using the new list',
      );
      d.remotes.list = next;
      if (t.peers) await t.peers.loadRemoteUuids();
      await d.supervisor.restart(d.refsWatch.name);
      t.poll.refresh();
      if (added.length > 0) t.merger.requestFetch(added);
      t.pusher.request();
      t.transfers?.requestScan();
    } catch (e) {
      d.log.warn({ err: String(e) }, 'could not read the remotes after a config change');
    }
  }
}

/** The config watch of a running agent: each settled burst of writes is reloaded, then the network
 * map (if any) reads our links again. */
export function reloadingConfigWatch(
  d: ReloadDeps & { map: Pick<MapService, 'changed'> | null },
): ConfigWatch {
  const reload = new Reload(d);
  return new ConfigWatch({
    gitDir: d.info.gitDir,
    onChange: () =>
      background(
        reload.run().then(() => d.map?.changed()),
        d.log,
        'reloading the git config',
      ),
  });
}
