// Running git (and the odd other binary) for the harness: argument vectors only, a deadline on
// every command, and the sandbox env passed whole so nothing from the caller's environment leaks in.
import { execFile } from 'node:child_process';

/** Setup commands (init, clone, fetch between two local dirs) take well under a second. */
const DEFAULT_TIMEOUT_MS = 60_000;

export interface ExecOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function exec(file: string, args: readonly string[], opts: ExecOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args as string[],
      {
        cwd: opts.cwd,
        env: opts.env,
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          const why = (stderr || stdout || err.message).trim().split('\n').slice(-3).join(' | ');
          const what = [file, ...args].join(' ').slice(0, 160);
          reject(new Error(`${what} (in ${opts.cwd}) failed: ${why}`));
        } else resolve(stdout);
      },
    );
  });
}

export function git(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  return exec('git', args, { cwd, env });
}

/** First line of a command's output, or a note that it failed: for the machine description only. */
export async function versionOf(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<string> {
  try {
    return (await exec(file, args, { cwd: '/', env, timeoutMs: 10_000 })).split('\n')[0]?.trim() ?? '';
  } catch (e) {
    return `unavailable (${(e as Error).message.slice(0, 80)})`;
  }
}
