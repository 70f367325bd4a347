// The client side of the control protocol (types.ts): one request to a running agent, one answer.
// Waits on the agent's answer line, bounded by a timeout; produces the handler's result, or rejects.
import { createConnection } from 'node:net';
import { NoAgentError, meansNoAgent } from './errors.js';
import { socketPath, type ControlRequest, type ControlResponse } from './types.js';

/**
 * Sends one request to a running agent. Rejects with NoAgentError when none listens (the socket is
 * missing or refuses), with the agent's message when its handler failed, and with a plain Error on a
 * timeout or a connection closed without an answer.
 */
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
      reject(meansNoAgent(e) ? new NoAgentError(path, e) : e);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const res = JSON.parse(buf) as ControlResponse<T>;
        if (res.ok) resolve(res.result);
        else reject(new Error(res.error ?? 'agent error'));
      } catch {
        reject(new Error('the agent closed the connection without an answer'));
      }
    });
  });
}
