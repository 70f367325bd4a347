// The XMPP servers the integration tests run against: Prosody and ejabberd, each started by its
// helper on loopback with the same interface, so a test file can loop over both.
import { startProsody } from './prosody.js';
import { ejabberdMissing, startEjabberd, type XmppTestServer } from './ejabberd.js';

export interface XmppServerKind {
  name: 'prosody' | 'ejabberd';
  start(): Promise<XmppTestServer>;
  /** The reason the server cannot run here (printed as the skip message), or false. */
  skip: string | false;
}

export const XMPP_SERVERS: XmppServerKind[] = [
  { name: 'prosody', start: () => startProsody(), skip: false },
  { name: 'ejabberd', start: () => startEjabberd(), skip: ejabberdMissing() ?? false },
];
