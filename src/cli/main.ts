#!/usr/bin/env node
// `git-autosync` / `git autosync <verb>`: the command line. Exit codes: 0 ok, 1 failed, 2 bad usage
// or bad input. Errors are one line on stderr that says what to do; --debug adds the stack.
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { openSync, readFileSync, closeSync, fchmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PushRejectedError, UserError } from '../git/errors.js';
import { discover, ensureStateDir, requireKeyFile, type RepoInfo } from '../git/repo.js';
import { Runner, childEnv, heldSecrets, keepSecrets, takeSecretEnv } from '../git/runner.js';
import { GitSync } from '../git/sync.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { controlRequest } from '../control/client.js';
import { agentAlive, isAlive, readPidFile } from '../agent/lock.js';
import { loadConfig } from '../agent/config.js';
import type { StatusJson } from '../agent/Agent.js';
import { createLogger } from '../log.js';
import { renderStatus, syncSummary } from './render.js';
import { offlineStatus } from './status.js';
import { parseArgs, type Args } from './args.js';
import { usage, verbHelp, verbSpec } from './usage.js';

async function main(argv: string[]): Promise<number> {
  // Secrets in our environment (the XMPP password) are kept in memory and never reach a child.
  takeSecretEnv();
  const args = parseArgs(argv, process.cwd());
  if (args.help || args.verb === 'help') {
    const name = args.verb === 'help' ? args.positional[0] : (args.verb ?? undefined);
    const spec = name === undefined ? undefined : verbSpec(name);
    if (name !== undefined && !spec) throw new UserError(`unknown verb '${name}'; see 'git autosync help'`);
    process.stdout.write((spec ? verbHelp(spec) : usage()) + '\n');
    return 0;
  }
  if (args.verb === null) {
    process.stderr.write(usage() + '\n');
    return 2;
  }
  if (args.cwdGiven) requireDirectory(args.cwd);
  switch (args.verb) {
    case 'init':
      return (await import('./init.js')).init(args.cwd, args.flags);
    case 'start':
      return args.flags.has('--foreground') ? startForeground(args) : startBackground(args);
    case 'stop':
      return stop(args.cwd);
    case 'status':
      return status(args.cwd, args.flags.has('--json'), args.flags.has('--watch'));
    case 'sync':
      return syncOnce(args.cwd);
    case 'pause':
    case 'resume':
      return pauseResume(args.cwd, args.verb, args.flags.get('--remote'));
    case 'notify':
      return notify(args.cwd, args.flags.get('--remote'));
    case 'cancel':
      return cancel(args.cwd, args.positional);
    case 'demo':
      return (await import('./demo.js')).demo({
        keep: args.flags.has('--keep'),
        annex: args.flags.has('--annex'),
      });
    case 'pair':
      throw new UserError(
        "pairing over XMPP is not available in this version; set autosync.xmpp.jid and copy .git/autosync/key to the other clone (see README, 'Pairing by hand')",
        1,
      );
  }
  return 2;
}

/** `-C somefile` would reach git as "spawn ENOTDIR": say what is wrong instead. */
function requireDirectory(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path} does not exist; pass -C <repository>`);
  }
  if (!st.isDirectory()) throw new UserError(`${path} is not a directory; pass -C <repository>`);
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
  const { Agent } = await import('../agent/Agent.js');
  // The background agent gets the secrets from its starter on stdin (one JSON line), so they are not
  // even in its own initial environment (/proc/<pid>/environ).
  if (args.flags.has('--daemon-child')) keepSecrets(readSecretsLine());
  // A daemon child's stderr is agent.out, kept for start-up errors only: its log goes to agent.log.
  const agent = await Agent.open(args.cwd, {
    foreground: !args.flags.has('--daemon-child'),
    debug: args.debug,
  });
  await agent.start();
  const onSignal = () => void agent.stop();
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
  const running = agentAlive(join(info.stateDir, 'agent.pid'));
  if (running) {
    const pid = running.pid;
    throw new UserError(
      `an agent is already running for this repository (pid ${pid}); use 'git autosync stop' first`,
      1,
    );
  }
  const outPath = join(info.stateDir, 'agent.out');
  const out = openSync(outPath, 'w', 0o600);
  fchmodSync(out, 0o600); // an agent.out left by an older version may be 0644
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
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
  const sock = join(info.stateDir, 'control.sock');
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
  throw new UserError(`the agent did not come up within 60 s; see ${join(info.stateDir, 'agent.log')}`, 1);
}

async function stop(cwd: string): Promise<number> {
  const info = await discover(cwd, { detachedOk: true });
  const pidPath = join(info.stateDir, 'agent.pid');
  const f = readPidFile(pidPath);
  if (!f || !isAlive(f.pid, f.start)) {
    process.stdout.write('git-autosync: no agent is running for this repository\n');
    return 0;
  }
  try {
    await controlRequest(join(info.stateDir, 'control.sock'), { cmd: 'stop' }, 10_000);
  } catch {
    process.kill(f.pid, 'SIGTERM'); // the socket is gone or stuck: the signal handler stops it cleanly
  }
  // The agent commits pending changes and pushes once before exiting; wait for it, bounded.
  const deadline = Date.now() + 120_000;
  // The pid file goes away just before the process exits; "stopped" means the process is gone.
  while (isAlive(f.pid, f.start)) {
    if (Date.now() > deadline) throw new UserError(`the agent (pid ${f.pid}) did not stop within 120 s`, 1);
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write('git-autosync: agent stopped\n');
  return 0;
}

async function getStatus(cwd: string): Promise<StatusJson> {
  const info = await discover(cwd, { detachedOk: true });
  try {
    return await controlRequest<StatusJson>(join(info.stateDir, 'control.sock'), { cmd: 'status' }, 10_000);
  } catch {
    return offlineStatus(info);
  }
}

async function status(cwd: string, json: boolean, watch: boolean): Promise<number> {
  // Clearing the screen between two pictures is for a terminal; into a pipe or a file, each
  // picture simply follows the last.
  const clear = watch && !json && process.stdout.isTTY === true ? '\x1b[2J\x1b[H' : '';
  for (;;) {
    const st = await getStatus(cwd);
    if (json) process.stdout.write(JSON.stringify(st) + '\n');
    else process.stdout.write(clear + renderStatus(st, process.stdout.columns ?? 80) + '\n');
    if (!watch) return 0;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One pass without a daemon (or through the running agent, which owns the repository then). */
async function syncOnce(cwd: string): Promise<number> {
  const info = await discover(cwd);
  ensureStateDir(info);
  let result: SyncResult;
  try {
    const r = await controlRequest<unknown>(
      join(info.stateDir, 'control.sock'),
      { cmd: 'sync', report: true },
      15 * 60_000,
    );
    result = asSyncResult(r);
  } catch (e) {
    if (!/ENOENT|ECONNREFUSED/.test(String((e as NodeJS.ErrnoException).code ?? e))) throw e;
    result = await syncWithoutAgent(info);
  }
  const failed = Object.entries(result.remotes).filter(([, err]) => err);
  for (const [r, err] of failed) process.stderr.write(`git-autosync: remote '${r}' failed: ${err}\n`);
  process.stdout.write(syncSummary(result.committed, result.remotes, result.paused) + '\n');
  return failed.length > 0 ? 1 : 0;
}

interface SyncResult {
  /** Files committed by this sync; null when an older agent did not say. */
  committed: number | null;
  /** Each remote, with null (synced) or why it failed. */
  remotes: Record<string, string | null>;
  /** Remotes the agent skipped because they are paused. */
  paused: string[];
}

/** The agent's answer: { remotes, committed } now, a bare remote -> error map from an older agent. */
function asSyncResult(r: unknown): SyncResult {
  const o = (r ?? {}) as Record<string, unknown>;
  if (typeof o.committed === 'number' && typeof o.remotes === 'object' && o.remotes !== null) {
    const paused = Array.isArray(o.paused) ? o.paused.filter((r): r is string => typeof r === 'string') : [];
    return { committed: o.committed, remotes: o.remotes as Record<string, string | null>, paused };
  }
  return { committed: null, remotes: o as Record<string, string | null>, paused: [] };
}

async function syncWithoutAgent(info: RepoInfo): Promise<SyncResult> {
  const runner = new Runner(info.workTree);
  const sync = new GitSync(info, runner, createLogger({}));
  await sync.recover();
  sync.largeFileWarning = (await loadConfig(runner, info)).largeFileWarning;
  const c = await sync.commit(await sync.pendingPaths());
  for (const f of c?.large ?? []) process.stderr.write(`git-autosync: warning: ${f.message}\n`);
  const outcome: Record<string, string | null> = {};
  for (const r of await runner.run(remotesCmd())) {
    try {
      await sync.fetch(r.name);
      await sync.mergeIncoming();
      try {
        await sync.push(r.name);
      } catch (e) {
        if (!(e instanceof PushRejectedError)) throw e;
        // Someone pushed between our fetch and our push: merge once more, then push again.
        await sync.fetch(r.name);
        await sync.mergeIncoming();
        await sync.push(r.name);
      }
      outcome[r.name] = null;
    } catch (e) {
      outcome[r.name] = e instanceof Error ? e.message : String(e);
    }
  }
  return { committed: c ? c.added + c.modified + c.deleted : 0, remotes: outcome, paused: [] };
}

async function pauseResume(
  cwd: string,
  verb: 'pause' | 'resume',
  remote: string | true | undefined,
): Promise<number> {
  const info = await discover(cwd, { detachedOk: true });
  const r = typeof remote === 'string' ? remote : undefined;
  try {
    await controlRequest(join(info.stateDir, 'control.sock'), { cmd: verb, remote: r }, 10_000);
  } catch (e) {
    if (/ENOENT|ECONNREFUSED/.test(String((e as NodeJS.ErrnoException).code))) {
      throw new UserError(`no agent is running for this repository; start it with 'git autosync start'`, 1);
    }
    throw new UserError(String(e instanceof Error ? e.message : e), 2);
  }
  process.stdout.write(
    `git-autosync: ${verb === 'pause' ? 'paused' : 'resumed'}${r ? ` remote '${r}'` : ''}\n`,
  );
  return 0;
}

async function notify(cwd: string, remote: string | true | undefined): Promise<number> {
  const info = await discover(cwd, { detachedOk: true });
  const remotes = typeof remote === 'string' ? [remote] : undefined;
  if (typeof remote === 'string') await requireRemote(info, remote);
  try {
    await controlRequest(join(info.stateDir, 'control.sock'), { cmd: 'notify', remotes }, 10_000);
  } catch {
    throw new UserError('no agent is running for this repository', 1);
  }
  return 0;
}

/** An unknown remote is bad input (exit 2), as `pause --remote` answers it. */
async function requireRemote(info: { workTree: string }, name: string): Promise<void> {
  const names = (await new Runner(info.workTree).run(remotesCmd())).map((r) => r.name);
  if (!names.includes(name)) {
    throw new UserError(
      `'${name}' is not a remote of this repository (${names.length ? `it has ${names.join(', ')}` : 'it has none'}); see 'git remote -v'`,
    );
  }
}

async function cancel(cwd: string, positional: string[]): Promise<number> {
  const key = positional[0];
  // An annex key: backend, optional fields, "--", name. Checked here so nothing odd reaches the agent.
  if (positional.length !== 1 || !key || !/^[A-Za-z0-9]+(-[a-zA-Z][0-9]+)*--[^\s/]{1,256}$/.test(key)) {
    throw new UserError('cancel takes one git-annex key, as shown by `git autosync status`');
  }
  const info = await discover(cwd, { detachedOk: true });
  try {
    await controlRequest(join(info.stateDir, 'control.sock'), { cmd: 'cancel', key }, 10_000);
  } catch (e) {
    if (/ENOENT|ECONNREFUSED/.test(String((e as NodeJS.ErrnoException).code))) {
      throw new UserError('no agent is running for this repository', 1);
    }
    throw new UserError(e instanceof Error ? e.message : String(e), 1);
  }
  process.stdout.write(`git-autosync: cancelled ${key}\n`);
  return 0;
}

const argv = process.argv.slice(2);
// The reader of our output went away (`status --watch | head -3`): there is nobody left to tell
// anything, and nothing failed. Exit quietly, 0, as other Unix tools do on a closed pipe.
// Any other error on stdout is one line too, never a stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`git-autosync: cannot write the output (${e.code ?? e.message})\n`);
  process.exit(1);
});
main(argv).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UserError) {
      process.stderr.write(`git-autosync: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`git-autosync: ${msg.split('\n')[0]}\n`);
    if (argv.includes('--debug') && e instanceof Error) process.stderr.write((e.stack ?? '') + '\n');
    process.exit(1);
  },
);
