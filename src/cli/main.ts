#!/usr/bin/env node
// `git-autosync` / `git autosync <verb>`: the command line. Exit codes: 0 ok, 1 failed, 2 bad usage
// or bad input. Errors are one line on stderr that says what to do; --debug adds the stack.
import { spawn } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { openSync, readFileSync, existsSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PushRejectedError, UserError } from '../git/errors.js';
import { discover, ensureStateDir, readJson, type RepoInfo } from '../git/repo.js';
import { Runner } from '../git/runner.js';
import { GitSync } from '../git/sync.js';
import { ignoreMatcher } from '../git/transient.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { controlRequest } from '../agent/control.js';
import { agentAlive, isAlive, readPidFile } from '../agent/lock.js';
import { loadConfig } from '../agent/config.js';
import type { StatusJson } from '../agent/Agent.js';
import { createLogger } from '../log.js';
import { renderStatus } from './render.js';

const USAGE = `usage: git autosync [-C <path>] <verb> [options]

verbs:
  init [--yes]              prepare this repository for syncing (wizard in a terminal)
  start [--foreground]      start the agent (background unless --foreground)
  stop                      stop the agent cleanly (pending changes are committed first)
  status [--json]           show the agent's state
  sync                      one pass without a daemon: commit, fetch+merge, push
  pause [--remote R]        pause syncing (or one remote); local commits continue
  resume [--remote R]       resume syncing
  notify [--remote R]       tell the running agent that remote refs changed (for hooks)
  cancel KEY                cancel a content transfer (annex mode); it is not retried
  demo                      watch clones sync live in a temp dir (no account needed)
  pair                      pair with another device over XMPP

options: -C <path>  act on the repository at <path>;  --debug  stack traces and stanza logs`;

interface Args {
  cwd: string;
  verb: string | null;
  flags: Map<string, string | true>;
  positional: string[];
  debug: boolean;
}

const VALUE_FLAGS = new Set(['--remote', '--accept']);

function parseArgs(argv: string[]): Args {
  const a: Args = { cwd: process.cwd(), verb: null, flags: new Map(), positional: [], debug: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '-C') {
      const p = argv[++i];
      if (p === undefined) throw new UserError('-C needs a path');
      a.cwd = resolve(a.cwd, p);
    } else if (x === '--debug') a.debug = true;
    else if (x === '-h' || x === '--help') a.flags.set('--help', true);
    else if (x.startsWith('--')) {
      const eq = x.indexOf('=');
      if (eq > 0) a.flags.set(x.slice(0, eq), x.slice(eq + 1));
      else if (VALUE_FLAGS.has(x)) {
        const v = argv[++i];
        if (v === undefined) throw new UserError(`${x} needs a value`);
        a.flags.set(x, v);
      } else a.flags.set(x, true);
    } else if (a.verb === null) a.verb = x;
    else a.positional.push(x);
  }
  return a;
}

const KNOWN: Record<string, string[]> = {
  init: ['--yes', '--jid', '--room', '--service', '--resource'],
  start: ['--foreground', '--daemon-child'],
  stop: [],
  status: ['--json', '--watch'],
  sync: [],
  pause: ['--remote'],
  resume: ['--remote'],
  notify: ['--remote'],
  cancel: [],
  demo: ['--keep', '--annex'],
  pair: ['--offer', '--accept'],
};

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.flags.has('--help') || args.verb === null) {
    process.stdout.write(USAGE + '\n');
    return args.verb === null && !args.flags.has('--help') ? 2 : 0;
  }
  const known = KNOWN[args.verb];
  if (!known) throw new UserError(`unknown verb '${args.verb}'; see 'git autosync --help'`);
  for (const f of args.flags.keys()) {
    if (f !== '--help' && !known.includes(f)) throw new UserError(`'${args.verb}' has no option ${f}`);
  }
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

/** Spawns the agent detached, waits until its control socket answers, and returns. */
async function startBackground(args: Args): Promise<number> {
  const info = await discover(args.cwd);
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
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '-C', info.workTree, 'start', '--foreground', '--daemon-child'],
    {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: info.workTree,
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  closeSync(out);
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
  const info = await discover(cwd);
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

async function offlineStatus(info: RepoInfo): Promise<StatusJson> {
  const runner = new Runner(info.workTree);
  const sync = new GitSync(info, runner, createLogger({}));
  const remotes = await runner.run(remotesCmd());
  const config = await loadConfig(runner, info);
  sync.ignore = ignoreMatcher(config.ignore);
  const paused = readJson<{ all: boolean; remotes: string[] }>(join(info.stateDir, 'state.json'), {
    all: false,
    remotes: [],
  });
  return {
    running: false,
    pid: null,
    repository: info.workTree,
    mode: info.mode,
    branch: info.branch,
    head: await sync.head(),
    pendingChanges: (await sync.pendingPaths()).length,
    remotes: remotes.map((r) => ({
      name: r.name,
      lastPushOk: null,
      lastPushAt: null,
      paused: paused.all || paused.remotes.includes(r.name),
      error: null,
    })),
    signal: {
      transport: config.xmpp.jid ? (config.xmpp.room ? 'xmpp-room' : 'xmpp-account') : 'refs-watch',
      state: 'offline',
      peers: [],
      rejected: 0,
    },
    transfers: { queued: 0, active: [], failed: 0 },
  };
}

async function getStatus(cwd: string): Promise<StatusJson> {
  const info = await discover(cwd);
  try {
    return await controlRequest<StatusJson>(join(info.stateDir, 'control.sock'), { cmd: 'status' }, 10_000);
  } catch {
    return offlineStatus(info);
  }
}

async function status(cwd: string, json: boolean, watch: boolean): Promise<number> {
  for (;;) {
    const st = await getStatus(cwd);
    if (json) process.stdout.write(JSON.stringify(st) + '\n');
    else
      process.stdout.write(
        (watch ? '\x1b[2J\x1b[H' : '') + renderStatus(st, process.stdout.columns ?? 80) + '\n',
      );
    if (!watch) return 0;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One pass without a daemon (or through the running agent, which owns the repository then). */
async function syncOnce(cwd: string): Promise<number> {
  const info = await discover(cwd);
  ensureStateDir(info);
  let outcome: Record<string, string | null>;
  try {
    outcome = await controlRequest<Record<string, string | null>>(
      join(info.stateDir, 'control.sock'),
      { cmd: 'sync' },
      15 * 60_000,
    );
  } catch (e) {
    if (!/ENOENT|ECONNREFUSED/.test(String((e as NodeJS.ErrnoException).code ?? e))) throw e;
    outcome = await syncWithoutAgent(info);
  }
  const failed = Object.entries(outcome).filter(([, err]) => err);
  for (const [r, err] of failed) process.stderr.write(`git-autosync: remote '${r}' failed: ${err}\n`);
  if (Object.keys(outcome).length === 0)
    process.stdout.write('git-autosync: committed; no remotes to sync with\n');
  return failed.length > 0 ? 1 : 0;
}

async function syncWithoutAgent(info: RepoInfo): Promise<Record<string, string | null>> {
  const runner = new Runner(info.workTree);
  const sync = new GitSync(info, runner, createLogger({}));
  sync.ignore = ignoreMatcher((await loadConfig(runner, info)).ignore);
  await sync.recover();
  await sync.commit(await sync.pendingPaths());
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
  return outcome;
}

async function pauseResume(
  cwd: string,
  verb: 'pause' | 'resume',
  remote: string | true | undefined,
): Promise<number> {
  const info = await discover(cwd);
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
  const info = await discover(cwd);
  const remotes = typeof remote === 'string' ? [remote] : undefined;
  try {
    await controlRequest(join(info.stateDir, 'control.sock'), { cmd: 'notify', remotes }, 10_000);
  } catch {
    throw new UserError('no agent is running for this repository', 1);
  }
  return 0;
}

async function cancel(cwd: string, positional: string[]): Promise<number> {
  const key = positional[0];
  // An annex key: backend, optional fields, "--", name. Checked here so nothing odd reaches the agent.
  if (positional.length !== 1 || !key || !/^[A-Za-z0-9]+(-[a-zA-Z][0-9]+)*--[^\s/]{1,256}$/.test(key)) {
    throw new UserError('cancel takes one git-annex key, as shown by `git autosync status`');
  }
  const info = await discover(cwd);
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
