// The server side of the control protocol (types.ts): listens on .git/autosync/control.sock
// (0600), waits on one request line per connection, and answers it with what the agent's handler
// produces (or the message of what it threw).
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, unlinkSync, existsSync } from 'node:fs';
import { socketPath, type ControlRequest, type ControlResponse } from './types.js';

/** A request line longer than this is not from our CLI. */
const MAX_REQUEST = 64 * 1024;

function answer(sock: Socket, res: ControlResponse): void {
  sock.end(JSON.stringify(res) + '\n');
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
        answer(sock, { ok: false, error: 'bad request' });
        return;
      }
      this.handle(req).then(
        (result) => answer(sock, { ok: true, result }),
        (e: unknown) => answer(sock, { ok: false, error: e instanceof Error ? e.message : String(e) }),
      );
    });
  }
}
