// Logging: pino JSON lines into .git/autosync/agent.log; pretty on a TTY in the foreground. The
// redaction list is the one guard that keeps secrets out of every log line, whatever object a caller
// passes: passwords, keys, MACs and XMPP auth payloads.
import { fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;

export const REDACT_PATHS = [
  'password',
  '*.password',
  'key',
  '*.key.secret',
  'secret',
  '*.secret',
  'mac',
  '*.mac',
  'auth',
  '*.auth',
  'credentials',
  '*.credentials',
  'env.GIT_AUTOSYNC_XMPP_PASSWORD',
];

export interface LogOptions {
  file?: string;
  /** Also log to stderr: pretty on a TTY, JSON lines otherwise (`start --foreground`). */
  stderr?: boolean;
  level?: string;
}

export function createLogger(opts: LogOptions): Logger {
  const level = opts.level ?? (process.env.GIT_AUTOSYNC_LOG_LEVEL || 'info');
  const streams: Array<{ stream: DestinationStream; level: string }> = [];
  if (opts.file) {
    // Opened here, synchronously, not by pino: the file is created 0600 (it names paths, remotes
    // and peers), an older 0644 one is made 0600 too, and the stream is ready at once. A stream still
    // opening its file threw "sonic boom is not ready yet" from pino's exit hook when the process
    // exited right away (a second `start --foreground`, refused by the lock).
    streams.push({ stream: pino.destination({ dest: openLogFile(opts.file), sync: false }), level });
  }
  if (opts.stderr && process.stderr.isTTY) {
    // pino-pretty is loaded lazily: a headless agent never pays for it.
    streams.push({
      stream: pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }),
      level,
    });
  } else if (opts.stderr) {
    // Not a terminal (a service manager, a pipe): JSON lines, one per event, like the log file.
    streams.push({ stream: pino.destination({ dest: 2, sync: false }), level });
  }
  if (streams.length === 0) return pino({ level: 'silent' });
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, pino.multistream(streams));
}

/** Opens (creating, mode 0600) a log file for appending; fixes the mode of an existing one. */
export function openLogFile(path: string): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

/** Scrubs anything secret-looking from free text before it is logged or shown. */
export function scrub(text: string): string {
  return text
    .replace(/(password|passwd|secret|token|mac)(["'=:\s]+)([^\s"',&]+)/gi, '$1$2[redacted]')
    .replace(/(\/\/[^/:@\s]+:)([^@\s]+)@/g, '$1[redacted]@');
}
