// Logging: pino JSON lines into .git/autosync/agent.log; pretty on a TTY in the foreground. The
// redaction list is the one guard that keeps secrets out of every log line, whatever object a caller
// passes: passwords, keys, MACs and XMPP auth payloads.
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

/** The log file stream of each logger, for reopenLogFile. */
const logFiles = new WeakMap<Logger, { reopen(): void }>();

/**
 * Opens the log file again by its path: it was removed or moved away while we ran (a deleted
 * .git/autosync), and lines written to the old file would reach no one.
 */
export function reopenLogFile(log: Logger): void {
  logFiles.get(log)?.reopen();
}

export function createLogger(opts: LogOptions): Logger {
  const level = opts.level ?? (process.env.GIT_AUTOSYNC_LOG_LEVEL || 'info');
  const streams: Array<{ stream: DestinationStream; level: string }> = [];
  let file: ReturnType<typeof pino.destination> | null = null;
  if (opts.file) {
    file = pino.destination({ dest: opts.file, mkdir: true, sync: false });
    streams.push({ stream: file, level });
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
  const log = pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.multistream(streams),
  );
  if (file) {
    const f = file;
    logFiles.set(log, { reopen: () => f.reopen() });
  }
  return log;
}

/** Scrubs anything secret-looking from free text before it is logged or shown. */
export function scrub(text: string): string {
  return text
    .replace(/(password|passwd|secret|token|mac)(["'=:\s]+)([^\s"',&]+)/gi, '$1$2[redacted]')
    .replace(/(\/\/[^/:@\s]+:)([^@\s]+)@/g, '$1[redacted]@');
}
