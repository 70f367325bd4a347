// How long the XMPP transport waits for each thing, with the reason for each default. Tests and
// benchmarks pass shorter ones through XmppTransportOptions.timing.
import { RECONNECT_BASE_MS, RECONNECT_MAX_MS } from '../core/backoff.js';

export interface XmppTiming {
  /** First reconnect delay; doubles per failure (with jitter) up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Keepalive ping period (XEP-0199). */
  pingIntervalMs: number;
  /** A ping unanswered this long means the stream is dead: reconnect. */
  pongTimeoutMs: number;
  /** Whole attempt (TCP, TLS, SASL, bind, SM, join) must finish in this time. */
  connectTimeoutMs: number;
  /** After bind, how long the server may take to answer <enable/>. */
  smEnableTimeoutMs: number;
  /** Room join (self-presence) deadline. */
  joinTimeoutMs: number;
  /** Graceful close deadline in stop(); the socket is destroyed after it. */
  stopTimeoutMs: number;
}

export const DEFAULT_TIMING: XmppTiming = {
  backoffBaseMs: RECONNECT_BASE_MS,
  backoffMaxMs: RECONNECT_MAX_MS,
  // 30 s: under the idle timeouts of common NATs and mobile carriers (often 60 s or more).
  pingIntervalMs: 30_000,
  // 10 s: a healthy server answers in milliseconds; a slow link in well under this.
  pongTimeoutMs: 10_000,
  // 30 s: DNS, TCP, TLS and SASL over a slow link; longer is a hung server.
  connectTimeoutMs: 30_000,
  // 10 s: the answer to <enable/> follows bind at once on a healthy server.
  smEnableTimeoutMs: 10_000,
  // 10 s: a MUC answers a join in one round trip.
  joinTimeoutMs: 10_000,
  // 3 s: enough for the server to acknowledge </stream:stream>; stop() must not hang.
  stopTimeoutMs: 3_000,
};
