// `status` with no agent running: the same JSON object a running agent answers with (the same keys,
// so a script reads one schema), filled from git config and the work tree. What only a running agent
// knows (push results, peers, services, stuck paths) is empty or null, never a guess: a remote's
// lastPushOk is null ("unknown"), not true.
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { loadConfig } from '../agent/config.js';
import { readPauseState } from '../agent/pause.js';
import { ignoreMatcher } from '../git/transient.js';
import { remotes as remotesCmd } from '../git/commands.js';
import { checkedOutBranch, nodeId, type RepoPlace } from '../git/repo.js';
import { Runner } from '../git/runner.js';
import { GitSync } from '../git/sync.js';
import { createLogger } from '../core/log.js';
import { remoteLinkFacts } from '../map/read.js';
import { noTransfers, type SignalStatus, type StatusJson } from './types.js';

/**
 * What `branch` says with no agent and a detached HEAD: git's own name for that state
 * (`git rev-parse --abbrev-ref HEAD` prints it). `checkedOut: null` says the same for scripts.
 */
export const DETACHED_BRANCH = 'HEAD';

/**
 * Above this many files in the index, the offline status does not scan the work tree: a full
 * `git status --untracked-files=all` lstats every tracked file and reads every folder, which at
 * 100,000 files took 0.5 s of wall time and 0.23 s of CPU warm (seconds cold), and status is
 * polled (`status --watch`, scripts, an agent still starting). At 20,000 files that scan is under
 * 0.1 s, so trees up to here keep the exact count.
 */
export const OFFLINE_SCAN_MAX_FILES = 20_000;

/** How many entries the index holds, from its 12-byte header ("DIRC", version, count); null when
 * there is no index or it is not one git wrote. */
export function indexEntries(gitDir: string): number | null {
  let fd: number | null = null;
  try {
    fd = openSync(join(gitDir, 'index'), 'r');
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 4) !== 'DIRC') return null;
    return head.readUInt32BE(8);
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Paths staged but not committed (index against HEAD): reads the index only, no work tree. */
async function stagedCount(runner: Runner): Promise<number> {
  const r = await runner.git(['diff-index', '--cached', '--name-only', '-z', 'HEAD'], { okCodes: [128] });
  return r.code === 0 ? r.stdout.split('\0').filter(Boolean).length : 0;
}

export async function offlineStatus(
  place: RepoPlace,
  opts: { scanMaxFiles?: number } = {},
): Promise<StatusJson> {
  const runner = new Runner(place.workTree);
  // head() and pendingPaths() never use the branch: a detached HEAD is fine here.
  const info = { ...place, branch: place.branch ?? DETACHED_BRANCH };
  const remotes = await runner.run(remotesCmd());
  const config = await loadConfig(runner, info);
  // Editor and OS temporary files are not pending changes (transient.ts), as in the agent.
  const settings = { ignore: ignoreMatcher(config.ignore), largeFileWarning: config.largeFileWarning };
  const sync = new GitSync({ info, runner, log: createLogger({}), settings: () => settings });
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
          edgesAccepted: 0,
        };
  const ahead = await Promise.all(remotes.map((r) => sync.ahead(r.name)));
  const links = await remoteLinkFacts(runner, place.workTree);
  return {
    running: false,
    pid: null,
    repository: place.workTree,
    mode: place.mode,
    branch: info.branch,
    head: await sync.head(),
    ...(await pendingOffline(place, runner, sync, opts.scanMaxFiles ?? OFFLINE_SCAN_MAX_FILES)),
    scanning: false,
    remotes: remotes.map((r, i) => ({
      name: r.name,
      lastPushOk: null,
      lastPushAt: null,
      paused: paused.all || paused.remotes.includes(r.name),
      error: null,
      ahead: ahead[i] ?? null,
      available: links.get(r.name)?.available ?? true,
      cost: links.get(r.name)?.cost ?? null,
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
    // Only a running agent hears its peers' edges; `map` reads the rest without one.
    map: null,
  };
}

/** The offline pending count: every changed path in trees up to OFFLINE_SCAN_MAX_FILES, only the
 * staged ones above (see pendingCounted in types.ts). */
async function pendingOffline(
  place: RepoPlace,
  runner: Runner,
  sync: GitSync,
  scanMaxFiles: number,
): Promise<Pick<StatusJson, 'pendingChanges' | 'pendingCounted'>> {
  const files = indexEntries(place.gitDir);
  if (files !== null && files > scanMaxFiles)
    return { pendingChanges: await stagedCount(runner), pendingCounted: 'staged' };
  return { pendingChanges: (await sync.pendingPaths()).length, pendingCounted: 'all' };
}
