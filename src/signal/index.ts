// Entry point of the signal layer: picks the transport for the configuration. Room mode when a
// room is configured, same-account mode otherwise.
import { SameAccountTransport } from './account.js';
import { MucRoomTransport } from './room.js';
import type { XmppTransport, XmppTransportOptions } from './xmpp.js';

export function createTransport(opts: XmppTransportOptions): XmppTransport {
  return opts.room ? new MucRoomTransport(opts) : new SameAccountTransport(opts);
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
