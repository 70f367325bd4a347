// What follows pushes that moved refs: waits on the pusher's onPushed; produces the announcement to
// peers (through the signal transport) and then the hook (notifyCommand), and tells the network map
// (a remote's reachability may have changed). stop() waits for the announcements under way and ends
// the hook's children.
import type { PushResult } from '../git/sync.js';
import type { Logger } from '../core/log.js';
import type { SignalTransport } from '../signal/types.js';
import { HookSignaller } from '../signal/hook.js';
import type { Peers } from './peers.js';
import type { LiveConfig } from './live.js';
import type { RepoInfo } from '../git/repo.js';
import type { MapService } from './map-service.js';

export interface AfterPushDeps {
  log: Logger;
  peers: Pick<Peers, 'announceOwnRefs'>;
  signal: SignalTransport;
  info: Pick<RepoInfo, 'workTree'>;
  /** The settings in use: autosync.notifyCommand is read at each push (the reload changes it). */
  live: Pick<LiveConfig, 'config'>;
  /** The network map (annex mode with XMPP), else null. */
  map: Pick<MapService, 'pushed'> | null;
}

export class AfterPush {
  /** The post-push notification under way (announce, then the hook), so stop can wait for it. */
  private notifying: Promise<void> = Promise.resolve();

  private readonly hook: HookSignaller;

  constructor(private readonly d: AfterPushDeps) {
    this.hook = new HookSignaller({
      command: () => d.live.config.notifyCommand,
      workTree: d.info.workTree,
      log: d.log,
    });
  }

  pushed(results: PushResult[]): void {
    const p = (async () => {
      const remotes = results.map((r) => r.remote);
      const refs = await this.d.peers.announceOwnRefs(this.d.signal, remotes);
      this.hook.notify({ remotes, refs });
    })().catch((e) => this.d.log.warn({ err: String(e) }, 'post-push notification failed'));
    this.notifying = Promise.all([this.notifying, p]).then(() => undefined);
    this.d.map?.pushed();
  }

  /** A notifyCommand still running (the final push's, or a hung one) is ended with all it started:
   * nothing of ours outlives the agent. */
  async stop(): Promise<void> {
    await this.notifying;
    await this.hook.stop();
  }
}
