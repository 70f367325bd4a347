// A child process that logs in with the production transport and prints one JSON line: the
// status once it is online, or the first error. It exists because Node reads NODE_EXTRA_CA_CERTS
// (the CA a test made) only when a process starts, as it does for the agent.
// Input: env PROBE_SERVICE, PROBE_JID, PROBE_PASSWORD. Output: {"state","error","transport"}.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createTransport } from '../../src/signal/index.js';
import { logUnhandledRejections } from '../../src/app/process.js';

/** Login on loopback takes well under a second; the caller's own deadline is longer. */
const PROBE_DEADLINE_MS = 20_000;

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`tls-probe: ${name} is not set`);
  return v;
};

// As in the agent: a rejection inside @xmpp/client (its SASL step writing to a socket the server
// had just closed, seen with ejabberd at load 8) is logged and the transport retries; without
// this the probe died where an agent keeps going.
logUnhandledRejections(pino({ level: 'silent' }));

const t = createTransport({
  jid: env('PROBE_JID'),
  service: env('PROBE_SERVICE'),
  room: null,
  resource: `probe-${randomBytes(3).toString('hex')}`,
  password: env('PROBE_PASSWORD'),
  repoId: 'tls-probe',
  nodeId: 'tls-probe',
  key: randomBytes(32),
  log: pino({ level: 'silent' }),
  handlers: { onPeerRefs: () => {}, onConnected: () => {} },
  timing: { backoffBaseMs: 200, backoffMaxMs: 1_000, connectTimeoutMs: 10_000 },
});

const deadline = Date.now() + PROBE_DEADLINE_MS;
await t.start();
for (;;) {
  const s = t.status();
  // Online, or refused for its certificate (what the tests look at), or out of time. Any other
  // error (a connection the server closed while it was still starting) is retried, as by an agent.
  const tlsRefused = /TLS certificate/.test(s.error ?? '');
  if (s.state === 'online' || tlsRefused || Date.now() > deadline) {
    process.stdout.write(JSON.stringify({ state: s.state, error: s.error, transport: s.transport }) + '\n');
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
}
await t.stop();
