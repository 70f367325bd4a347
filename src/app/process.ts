// What the agent does before it builds its services (the repository and its config, the key, a
// crash's leftovers, the remotes), and process-wide wiring that is no service: the
// unhandled-rejection guard and the git trace.
import { readFileSync } from 'node:fs';
import { Runner, takeSecretEnv, type GitTrace } from '../git/runner.js';
import { discover, ensureKeyFile, ensureStateDir, requireKeyFile, type RepoInfo } from '../git/repo.js';
import type { GitSync } from '../git/sync.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { createLogger, type Logger } from '../core/log.js';
import { statePaths } from '../git/state-paths.js';
import { loadConfig, type AgentConfig } from '../agent/config.js';
import type { PidLock } from '../agent/lock.js';
import type { RemoteList } from './live.js';

/** The repository at `path` and its settings, with its state directory made (Agent.open). */
export async function openRepo(path: string): Promise<{ info: RepoInfo; config: AgentConfig }> {
  // The XMPP password in our environment is kept in memory for reconnects, out of every child's.
  takeSecretEnv();
  const info = await discover(path);
  const config = await loadConfig(new Runner(info.workTree), info);
  // With XMPP a key must exist before anything is made here (not even the state directory).
  if (config.xmpp.jid) requireKeyFile(config.keyFile);
  ensureStateDir(info);
  return { info, config };
}

/** The agent's log: the state directory's log file, and stderr too in the foreground. */
export function agentLogger(info: RepoInfo, opts: { foreground?: boolean; debug?: boolean }): Logger {
  return createLogger({
    file: statePaths(info.stateDir).log,
    stderr: opts.foreground === true,
    level: opts.debug ? 'debug' : undefined,
  });
}

/** One process-wide handler, however many agents a process opens (tests). */
let rejectionsLogged = false;

/**
 * A rejected promise nobody awaited is a bug of ours, but it must not end the agent (Node's
 * default): syncing would stop with nothing in the log. Record it and keep going.
 */
export function logUnhandledRejections(log: Logger): void {
  if (rejectionsLogged) return;
  rejectionsLogged = true;
  process.on('unhandledRejection', (err) => {
    log.error(
      { err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
      'unhandled rejection (a bug); the agent keeps running',
    );
  });
}

/** At trace level, every git call is logged with how long it waited for a slot and ran. */
export function gitTrace(log: Logger): GitTrace | null {
  if (!log.isLevelEnabled('trace')) return null;
  return (args, waitMs, runMs) =>
    log.trace(
      { git: args.slice(0, 3).join(' '), waitMs: Math.round(waitMs), runMs: Math.round(runMs) },
      'git',
    );
}

export interface StartUpDeps {
  info: RepoInfo;
  log: Logger;
  lock: Pick<PidLock, 'recovered'>;
  config: AgentConfig;
  sync: Pick<GitSync, 'recover'>;
  runner: Runner;
  remotes: RemoteList;
}

/** Before the services are built: the key (its bytes returned, kept to put back if removed), the
 * rejection guard, a crash's leftovers cleared, and the remotes read. */
export async function startUp(d: StartUpDeps): Promise<Buffer> {
  // Without XMPP the key only names the repository in signals nobody checks yet: made here if
  // missing, as before. With XMPP only init makes it (see requireKeyFile).
  if (d.config.xmpp.jid) requireKeyFile(d.config.keyFile);
  else ensureKeyFile(d.config.keyFile);
  // Kept in memory, byte for byte, to put back if the file is removed while we run.
  const keyBytes = readFileSync(d.config.keyFile);
  d.log.info({ repo: d.info.workTree, mode: d.info.mode, recovered: d.lock.recovered }, 'agent starting');
  logUnhandledRejections(d.log);
  // After a kill -9: a dead git's index.lock, a half-done merge. Instant, never a timeout.
  await d.sync.recover();
  d.remotes.list = await d.runner.run(remotesCmd());
  if (d.remotes.list.length === 0) d.log.warn('no remotes configured: committing locally only');
  return keyBytes;
}
