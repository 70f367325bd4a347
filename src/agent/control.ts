// Control socket: a Unix socket at .git/autosync/control.sock through which the CLI (and tests, and
// an external signaller) talk to a running agent. One JSON request per line, one JSON answer per
// line. The socket file is created 0600 inside the 0700 state directory: only the owner can connect.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, unlinkSync, existsSync } from 'node:fs';
import { relative } from 'node:path';

export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'stop' }
  | { cmd: 'pause'; remote?: string }
  | { cmd: 'resume'; remote?: string }
  | { cmd: 'notify'; remotes?: string[] }
  /** report: answer { remotes, committed, paused } (files committed, remotes skipped), not just the remotes. */
  | { cmd: 'sync'; report?: boolean }
  | { cmd: 'cancel'; key: string }
  | { cmd: 'flush' };

/** A request line longer than this is not from our CLI. */
const MAX_REQUEST = 64 * 1024;
/** Unix socket paths are limited to 107 bytes; longer ones are reached through a relative path. */
const SUN_PATH_MAX = 100;

function socketPath(path: string): string {
  if (path.length <= SUN_PATH_MAX) return path;
  const rel = relative(process.cwd(), path);
  return rel.length < path.length ? rel : path;
}

export class ControlServer {
  private server: Server | null = null;

  constructor(
    private readonly path: string,
    private readonly handle: (req: ControlRequest) => Promise<unknown>,
  ) {}

  async start(): Promise<void> {
    if (existsSync(this.path)) unlinkSync(this.path); // left by a dead agent; the pid lock proved it dead
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath(this.path), () => resolve());
    });
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  /** Whether the socket file is in place (a deleted .git/autosync takes it with it). */
  get inPlace(): boolean {
    return existsSync(this.path);
  }

  /** Listens again at the path: its socket file was removed while we ran. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private serve(sock: Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST) return sock.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let req: ControlRequest;
      try {
        req = JSON.parse(line) as ControlRequest;
      } catch {
        sock.end(JSON.stringify({ ok: false, error: 'bad request' }) + '\n');
        return;
      }
      this.handle(req).then(
        (result) => sock.end(JSON.stringify({ ok: true, result }) + '\n'),
        (e: unknown) =>
          sock.end(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n'),
      );
    });
  }
}

/** Sends one request to a running agent. Rejects with ENOENT/ECONNREFUSED when none listens. */
export function controlRequest<T = unknown>(
  path: string,
  req: ControlRequest,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath(path));
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the agent did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const res = JSON.parse(buf) as { ok: boolean; result?: T; error?: string };
        if (res.ok) resolve(res.result as T);
        else reject(new Error(res.error ?? 'agent error'));
      } catch {
        reject(new Error('the agent closed the connection without an answer'));
      }
    });
  });
}
