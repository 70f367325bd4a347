// `pair --offer` and `pair --accept` as processes, for the pairing integration tests: spawn one with
// its stdin given, collect its output, wait for the offer's first JSON line (its code).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './agents.js';
import { waitFor } from './wait.js';

export interface Proc {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number>;
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { cwd?: string; input?: string } = {},
): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd: opts.cwd, stdio: 'pipe' });
  const p: Proc = { child, stdout: '', stderr: '', exit: null as unknown as Promise<number> };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (p.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (p.stderr += d));
  p.exit = new Promise((r) => child.once('exit', (c) => r(c ?? -1)));
  child.stdin!.end(opts.input ?? '');
  return p;
}

export interface OfferLine {
  code: string;
  long: string;
  expires: string;
}

/** Starts `pair --offer --json` in `repo` and resolves with its first line, once printed. */
export async function startOffer(
  repo: string,
  env: NodeJS.ProcessEnv,
  timeout = '120',
): Promise<{ proc: Proc } & OfferLine> {
  const proc = runCli(['-C', repo, 'pair', '--offer', '--json', '--timeout', timeout], env);
  const first = await waitFor(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`offer exited: ${proc.stderr}`);
      const line = proc.stdout.split('\n')[0];
      return proc.stdout.includes('\n') && line ? (JSON.parse(line) as OfferLine) : null;
    },
    { what: 'the offer to print its code', timeoutMs: 30_000 },
  );
  return { proc, ...first };
}

/** The last stdout line of a `--json` run, parsed. */
export function lastJson(p: Proc): Record<string, unknown> {
  const lines = p.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}
