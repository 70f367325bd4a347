// `status` with no agent running: the same JSON object a running agent answers with (the same keys,
// so a script reads one schema), filled from git config and the work tree. What only a running agent
// knows (push results, peers, services, stuck paths) is empty or null, never a guess: a remote's
// lastPushOk is null ("unknown"), not true.
import { hostname } from 'node:os';
import { loadConfig } from '../agent/config.js';
import { readPauseState } from '../agent/pause.js';
import { ignoreMatcher } from '../git/transient.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { checkedOutBranch, nodeId, type RepoPlace } from '../git/repo.js';
import { Runner } from '../git/runner.js';
import { GitSync } from '../git/sync.js';
import { createLogger } from '../core/log.js';
import { noTransfers, type SignalStatus, type StatusJson } from './types.js';

/**
 * What `branch` says with no agent and a detached HEAD: git's own name for that state
 * (`git rev-parse --abbrev-ref HEAD` prints it). `checkedOut: null` says the same for scripts.
 */
export const DETACHED_BRANCH = 'HEAD';

export async function offlineStatus(place: RepoPlace): Promise<StatusJson> {
  const runner = new Runner(place.workTree);
  // head() and pendingPaths() never use the branch: a detached HEAD is fine here.
  const info = { ...place, branch: place.branch ?? DETACHED_BRANCH };
  const sync = new GitSync(info, runner, createLogger({}));
  const remotes = await runner.run(remotesCmd());
  const config = await loadConfig(runner, info);
  // Editor and OS temporary files are not pending changes (transient.ts), as in the agent.
  sync.ignore = ignoreMatcher(config.ignore);
  const paused = readPauseState(place.stateDir);
  const transport = config.xmpp.jid ? (config.xmpp.room ? 'xmpp-room' : 'xmpp-account') : 'refs-watch';
  // The keys each transport's status() has when it runs (see refs-watch.ts and xmpp.ts status()).
  const signal: SignalStatus =
    transport === 'refs-watch'
      ? { transport, state: 'offline', peers: [], rejected: 0, error: null, rejectedWhy: null, hint: null }
      : {
          transport,
          state: 'offline',
          peers: [],
          rejected: 0,
          error: null,
          rejectedWhy: null,
          hint: null,
          sent: 0,
          accepted: 0,
        };
  const ahead = await Promise.all(remotes.map((r) => sync.ahead(r.name)));
  return {
    running: false,
    pid: null,
    repository: place.workTree,
    mode: place.mode,
    branch: info.branch,
    head: await sync.head(),
    pendingChanges: (await sync.pendingPaths()).length,
    scanning: false,
    remotes: remotes.map((r, i) => ({
      name: r.name,
      lastPushOk: null,
      lastPushAt: null,
      paused: paused.all || paused.remotes.includes(r.name),
      error: null,
      ahead: ahead[i] ?? null,
    })),
    signal,
    transfers: noTransfers(),
    services: [],
    stuck: [],
    errors: { commit: null, merge: null },
    // Large-file warnings are the running agent's (since it started): none without one.
    warnings: [],
    checkedOut: checkedOutBranch(place.gitDir),
    node: nodeId(info),
    host: hostname(),
  };
}
