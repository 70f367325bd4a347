// `start`: the agent, in the background (spawned detached; returns once its control socket
// answers) or, with --foreground, in this process until it stops.
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { openSync, readFileSync, closeSync, fchmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { discover, ensureStateDir, requireKeyFile } from '../../git/repo.js';
import { Runner, childEnv, heldSecrets, keepSecrets } from '../../git/runner.js';
import { controlRequest } from '../../control/client.js';
import { background } from '../../core/background.js';
import { agentAlive } from '../../core/pidfile.js';
import { loadConfig } from '../../agent/config.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';
import { statePaths } from '../../git/state-paths.js';

/** The program the background agent runs: this CLI, started again with --daemon-child. */
const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export function run(args: Args): Promise<number> {
  return args.flags.has('--foreground') ? startForeground(args) : startBackground(args);
}

/**
 * V8's memory reducer runs up to three full GCs, ~8 to 17 s after the last activity, to hand the
 * heap back (measured with --trace-gc: 3 mark-compacts, ~60 ms of CPU, after every sync). That was
 * all of an idle agent's CPU. One GC gets most of the memory back (the heap went 16 -> 9.5 MB in
 * the first one) and then the process stays asleep.
 */
const V8_FLAGS = '--memory-reducer-single-gc';

async function startForeground(args: Args): Promise<number> {
  setFlagsFromString(V8_FLAGS);
  const { Agent } = await import('../../app/Agent.js');
  // The background agent gets the secrets from its starter on stdin (one JSON line), so they are not
  // even in its own initial environment (/proc/<pid>/environ).
  if (args.flags.has('--daemon-child')) keepSecrets(readSecretsLine());
  // A daemon child's stderr is agent.out, kept for start-up errors only: its log goes to agent.log.
  const agent = await Agent.open(args.cwd, {
    foreground: !args.flags.has('--daemon-child'),
    debug: args.debug,
  });
  await agent.start();
  const onSignal = () => background(agent.stop(), agent.log, 'stopping on a signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (args.flags.has('--daemon-child')) process.stderr.write('git-autosync: agent ready\n');
  await agent.stopped;
  return 0;
}

function readSecretsLine(): Record<string, unknown> {
  // Started by hand with the internal flag from a terminal: there is no starter to hear from.
  if (process.stdin.isTTY) return {};
  try {
    const v: unknown = JSON.parse(readFileSync(0, 'utf8') || '{}');
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Spawns the agent detached, waits until its control socket answers, and returns. */
async function startBackground(args: Args): Promise<number> {
  const info = await discover(args.cwd);
  // With XMPP, a missing key is init's to make: refused before anything is created here.
  const config = await loadConfig(new Runner(info.workTree), info);
  if (config.xmpp.jid) requireKeyFile(config.keyFile);
  ensureStateDir(info);
  const running = agentAlive(statePaths(info.stateDir).pid);
  if (running) {
    const pid = running.pid;
    throw new CliError(
      'agent-running',
      `an agent is already running for this repository (pid ${pid}); use 'git autosync stop' first`,
    );
  }
  const outPath = statePaths(info.stateDir).out;
  const out = openSync(outPath, 'w', 0o600);
  fchmodSync(out, 0o600); // an agent.out left by an older version may be 0644
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '-C',
      info.workTree,
      'start',
      '--foreground',
      '--daemon-child',
      // The agent itself logs at debug level (agent.log) and shows stanzas: what --debug is for.
      ...(args.debug ? ['--debug'] : []),
    ],
    {
      detached: true,
      stdio: ['pipe', out, out],
      cwd: info.workTree,
      env: childEnv({ NO_COLOR: '1' }, 'user'),
    },
  );
  closeSync(out);
  child.stdin!.on('error', () => undefined); // it died at once: its exit below says why
  child.stdin!.end(JSON.stringify(heldSecrets()) + '\n');
  let exited: number | null = null;
  child.on('exit', (c) => (exited = c ?? 1));
  const sock = statePaths(info.stateDir).sock;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited !== null) {
      const lines = readFileSync(outPath, 'utf8').trim().split('\n');
      const last = lines.filter((l) => l.startsWith('git-autosync:')).pop() ?? lines.pop() ?? '';
      process.stderr.write(
        (last.startsWith('git-autosync:') ? last : `git-autosync: the agent exited: ${last}`) + '\n',
      );
      return exited === 2 ? 2 : 1;
    }
    try {
      await controlRequest(sock, { cmd: 'status' }, 2_000);
      child.unref();
      process.stdout.write(`git-autosync: agent started for ${info.workTree} (pid ${child.pid})\n`);
      return 0;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new CliError(
    'agent-timeout',
    `the agent did not come up within 60 s; see ${statePaths(info.stateDir).log}`,
  );
}
