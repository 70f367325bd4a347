// The network watch's wiring (agent/network-watch.ts): when the network comes back or the machine
// wakes from sleep, pushes and fetches hanging on the old network are cut off (when it changed),
// the signal transport reconnects at once, the merger fetches every remote, the pusher pushes to
// every remote (whatever its backoff timer says), and the transfers try the remotes they had left
// alone as down and plan the tree again. Waits on the watch; produces those requests.
import type { Logger } from '../core/log.js';
import type { Runner } from '../git/runner.js';
import type { Merger } from '../agent/merger.js';
import type { Pusher } from '../agent/pusher.js';
import type { SignalTransport } from '../signal/types.js';
import type { TransferService } from '../transfer/service.js';
import { NetworkWatch } from '../agent/network-watch.js';

export interface NetworkDeps {
  log: Logger;
  /** Its network commands under way (push, fetch) are cut off when the network changed under them. */
  runner: Pick<Runner, 'cutNetwork'>;
  /** The XMPP transport, if any (the refs watch has no connection to renew). */
  signal: Pick<SignalTransport, 'wake'> | null;
  merger: Pick<Merger, 'requestFetch'>;
  pusher: Pick<Pusher, 'request'>;
  transfers: Pick<TransferService, 'networkBack'> | null;
}

export function networkWatch(d: NetworkDeps): NetworkWatch {
  return new NetworkWatch({
    log: d.log,
    port: {
      changed: (_why, cut) => {
        if (cut) d.runner.cutNetwork();
        d.signal?.wake?.();
        d.merger.requestFetch();
        d.pusher.request();
        d.transfers?.networkBack();
      },
    },
  });
}
