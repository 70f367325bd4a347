// The mount watcher's wiring (agent/mounts.ts): a remote whose drive is mounted again is synced at
// once, git first (fetch and merge, then push), then content (a transfer scan); one that went away
// is skipped by the pusher and the merger through the shared AvailableRemotes, not retried.
import { background } from '../core/background.js';
import type { Logger } from '../core/log.js';
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import { type AvailableRemotes, MountWatcher } from '../agent/mounts.js';
import type { Merger } from '../agent/merger.js';
import type { Pusher } from '../agent/pusher.js';
import type { TransferService } from '../transfer/service.js';
import { readRemoteDefs } from '../map/read.js';
import type { MapService } from './map-service.js';

export interface DrivesDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
  /** Built before the merger and the pusher, which read it; the watcher alone writes it. */
  away: AvailableRemotes;
  merger: Pick<Merger, 'fetchAndMerge'>;
  pusher: Pick<Pusher, 'request'>;
  transfers: Pick<TransferService, 'remoteBack' | 'remoteAway'> | null;
  /** Told when a drive came or went, as our links changed (it tells the peers); null: no map. */
  map?: Pick<MapService, 'changed'> | null;
}

export function drivesWatch(d: DrivesDeps): MountWatcher {
  return new MountWatcher({
    log: d.log,
    availability: d.away,
    remotes: () => readRemoteDefs(d.runner, d.info.workTree),
    port: {
      available: (r) => {
        d.map?.changed();
        background(
          d.merger.fetchAndMerge(r).then(() => {
            d.pusher.request();
            d.transfers?.remoteBack(r);
          }),
          d.log,
          `syncing ${r} after its drive was mounted`,
        );
      },
      // Its transfers stop where they are and resume when it is back (git-annex's temporary files).
      unavailable: (r) => {
        d.map?.changed();
        d.transfers?.remoteAway(r);
      },
    },
  });
}
