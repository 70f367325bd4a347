// The errors of the XMPP transport, and the one place that turns whatever a connection attempt
// failed with (the library's SASL and stream errors, Node's socket and TLS codes, our own steps)
// into the line shown in status().error and the log. Pure: no sockets, no timers.
import { scrub } from '../core/log.js';
import { CredentialError, InsecureConnectionError } from './credentials.js';

/** A configuration the transport cannot work with at all; thrown by the constructor. */
export class SignalConfigError extends Error {
  override name = 'SignalConfigError';
  readonly code = 'SIGNAL_CONFIG';
}

/** A failed step of our own (timeout, join refused, keepalive lost): its message is the whole story. */
export class StepError extends Error {
  override name = 'StepError';
  readonly code = 'XMPP_STEP';
}

/** What a failure line names: the server we dial and the account we log in as. */
export interface ErrorContext {
  /** The service URL dialled, e.g. xmpps://chat.example.org:5223. */
  service: string;
  bareJid: string;
  resource: string;
}

/** status().error is one line; 400 characters hold any real reason with its server and account. */
const MAX_DESCRIPTION = 400;

/** Node's error codes for a certificate or TLS handshake the client refused. */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_|HOSTNAME|ALTNAME/;

/** One clear line for status().error and the log. Never contains a secret. */
export function describeXmppError(err: unknown, where: ErrorContext): string {
  const e = err as {
    name?: string;
    message?: string;
    code?: unknown;
    condition?: string;
    text?: string;
  } | null;
  const service = where.service;
  let msg: string;
  if (e?.name === 'SASLError')
    msg = `authentication failed for ${where.bareJid}: ${e.condition ?? 'failure'}`;
  else if (
    err instanceof InsecureConnectionError ||
    err instanceof CredentialError ||
    err instanceof StepError
  ) {
    msg = err.message;
  } else if (e?.name === 'StreamError') {
    msg = `${service} closed the stream: ${e.condition ?? 'error'}${e.text ? ` (${e.text})` : ''}`;
    if (e.condition === 'conflict') msg += `; another client logged in as ${where.bareJid}/${where.resource}`;
  } else if (typeof e?.code === 'string' && TLS_CODE.test(e.code)) {
    msg = `TLS certificate of ${service} not accepted: ${e.code}`;
  } else if (typeof e?.code === 'string') msg = `cannot connect to ${service}: ${e.code}`;
  else if (e?.message) msg = `${service}: ${e.message}`;
  else msg = `${service}: ${String(err)}`;
  return scrub(msg).slice(0, MAX_DESCRIPTION);
}
