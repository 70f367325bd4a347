// `sync`: one pass, through the running agent (which owns the repository then) or, when none runs,
// here: commit, then fetch, merge and push each remote. Each failed remote is a line on stderr, exit 1.
import { PushRejectedError } from '../../git/errors.js';
import { discover, ensureStateDir, type RepoInfo } from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { GitSync } from '../../git/sync.js';
import { remotes as remotesCmd } from '../../git/commands.js';
import { controlRequest } from '../../control/client.js';
import { NoAgentError } from '../../control/errors.js';
import { loadConfig } from '../../agent/config.js';
import { ignoreMatcher } from '../../git/transient.js';
import { createLogger } from '../../core/log.js';
import { syncSummary } from '../render.js';
import type { Args } from '../args.js';
import { statePaths } from '../../git/state-paths.js';

export function run(args: Args): Promise<number> {
  return syncOnce(args.cwd);
}

/** One pass without a daemon (or through the running agent, which owns the repository then). */
async function syncOnce(cwd: string): Promise<number> {
  const info = await discover(cwd);
  ensureStateDir(info);
  let result: SyncResult;
  try {
    const r = await controlRequest<unknown>(
      statePaths(info.stateDir).sock,
      { cmd: 'sync', report: true },
      15 * 60_000,
    );
    result = asSyncResult(r);
  } catch (e) {
    if (!(e instanceof NoAgentError)) throw e;
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
  const config = await loadConfig(runner, info);
  // Editor and OS temporary files are left out, as the agent leaves them out (transient.ts).
  const settings = { ignore: ignoreMatcher(config.ignore), largeFileWarning: config.largeFileWarning };
  const sync = new GitSync({ info, runner, log: createLogger({}), settings: () => settings });
  await sync.recover();
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
