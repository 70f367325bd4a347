// The control protocol: what the CLI (and tests, and an external signaller) may ask a running agent
// over the Unix socket at .git/autosync/control.sock, and the shape of each answer. One JSON
// request per line, one JSON answer per line; the socket file is 0600 inside the 0700 state
// directory, so only the owner can connect. The server is server.ts, the client client.ts.
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
  | { cmd: 'flush' }
  /** The peers' edge reports the agent holds (map/store.ts PeerReport[]) and its stale bound. */
  | { cmd: 'map' };

/** The answer line: the handler's result, or the message of what it threw. */
export type ControlResponse<T = unknown> = { ok: true; result: T } | { ok: false; error: string };

/** Unix socket paths are limited to 107 bytes; longer ones are reached through a relative path. */
const SUN_PATH_MAX = 100;

/** The path to hand to listen() or connect() for the socket file at `path`. */
export function socketPath(path: string): string {
  if (path.length <= SUN_PATH_MAX) return path;
  const rel = relative(process.cwd(), path);
  return rel.length < path.length ? rel : path;
}
