// Entry point of the signal layer: picks the transport for the configuration. Room mode when a
// room is configured, same-account mode otherwise. Wiring, in the agent:
//
//   const transport = createTransport({
//     jid, service, room,                          // autosync.xmpp.*
//     resource: resource ?? defaultResource(workTree),
//     password: async () => (await findPassword({ jid, passwordFile })).password,
//     repoId, nodeId, key,                         // key: Buffer from autosync.keyFile
//     log, bus, handlers: { onPeerRefs, onConnected },
//   });
//   supervisor.add(transport);                     // a Service; start() never throws on network errors
//   transport.announce({ refs, pushedTo });         // after each push
//   status.signal = transport.status();
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { SameAccountTransport } from './account.js';
import { MucRoomTransport } from './room.js';
import type { XmppTransport, XmppTransportOptions } from './xmpp.js';

export function createTransport(opts: XmppTransportOptions): XmppTransport {
  return opts.room ? new MucRoomTransport(opts) : new SameAccountTransport(opts);
}

/** Host part of the default resource; long host names are cut, the path hash keeps it unique. */
const MAX_HOST_PART = 40;

/**
 * The default `autosync.xmpp.resource`: host name plus a hash of the clone's absolute path, so it
 * is stable across restarts and distinct for two clones on one host. Restricted to
 * [A-Za-z0-9._-], so it is also usable as a node id.
 */
export function defaultResource(repoPath: string, host: string = hostname()): string {
  const h =
    host
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, MAX_HOST_PART) || 'host';
  const r = createHash('sha256').update(repoPath).digest('hex').slice(0, 10);
  return `git-autosync.${h}.${r}`;
}

export { SameAccountTransport } from './account.js';
export { MucRoomTransport } from './room.js';
export {
  XmppTransport,
  SignalConfigError,
  DEFAULT_TIMING,
  type XmppTransportOptions,
  type XmppTiming,
} from './xmpp.js';
export {
  findPassword,
  writePasswordFile,
  readPasswordFile,
  CredentialError,
  PASSWORD_ENV,
  KEYRING_SERVICE,
} from './credentials.js';
export { SIGNAL_NS } from './codec.js';
