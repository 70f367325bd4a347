// Logging: pino JSON lines into .git/autosync/agent.log; pretty on a TTY in the foreground. The
// redaction list is the one guard that keeps secrets out of every log line, whatever object a caller
// passes: passwords, keys, MACs and XMPP auth payloads.
import { closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
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
    // The file is created 0600 (it names paths, remotes and peers), and an older 0644 one is made
    // 0600 too, before the stream opens it. The stream opens and writes synchronously: a stream
    // still opening its file threw "sonic boom is not ready yet" from pino's exit hook when the
    // process exited right away (a second `start --foreground`, refused by the lock), and a line
    // written just before a crash is on disk. The agent logs a few lines a commit at info level, so
    // synchronous appends cost microseconds. By path, not by descriptor, so it can be reopened.
    prepareLogFile(opts.file);
    file = pino.destination({ dest: opts.file, mkdir: true, mode: 0o600, sync: true });
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
    streams.push({ stream: stderrLines(), level });
  }
  if (streams.length === 0) return pino({ level: 'silent' });
  const log = pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.multistream(streams),
  );
  if (file) {
    const f = file;
    const path = opts.file!;
    logFiles.set(log, {
      reopen: () => {
        prepareLogFile(path);
        f.reopen();
      },
    });
  }
  return log;
}

/**
 * Log lines to stderr, each written at once, and dropped when stderr cannot take it. Not pino's
 * asynchronous destination: its exit hook flushes with a loop that retries every failed write
 * (EPIPE too) every 100 ms for ever, so an agent whose reader had gone (the test that started it
 * killed, a service manager restarted) logged "agent stopped" and never exited. The log file holds
 * every line; stderr is a convenience, and a full or closed one must never hold the agent up. After
 * EPIPE or EBADF nothing more is tried.
 */
export function stderrLines(fd = 2): DestinationStream {
  // Node makes an inherited pipe on fd 2 non-blocking once process.stderr exists; until then a
  // write to a pipe whose reader has stalled would block the agent. Made to exist here, on purpose.
  if (fd === 2) void process.stderr.writable;
  let gone = false;
  // A line cut off by a full pipe: the next one starts on a line of its own.
  let torn = false;
  return {
    write(line: string): void {
      if (gone) return;
      const buf = Buffer.from(torn ? '\n' + line : line);
      let off = 0;
      try {
        while (off < buf.length) off += writeSync(fd, buf, off);
        torn = false;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE' || code === 'EBADF') gone = true;
        // EAGAIN (a full pipe nobody reads now): the rest of this line is dropped.
        if (off > 0) torn = true;
      }
    },
  };
}

/** Creates a log file (mode 0600) if it is missing, and makes an existing one 0600. */
export function prepareLogFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** Scrubs anything secret-looking from free text before it is logged or shown. */
export function scrub(text: string): string {
  return text
    .replace(/(password|passwd|secret|token|mac)(["'=:\s]+)([^\s"',&]+)/gi, '$1$2[redacted]')
    .replace(/(\/\/[^/:@\s]+:)([^@\s]+)@/g, '$1[redacted]@');
}
