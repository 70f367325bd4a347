// Reads the network map with no agent: this clone's git config and git-annex branch, and the config
// of every repository on this machine that a remote points at (breadth first, bounded), so a drive
// or a sibling clone contributes its own links. The graph itself is built by graph.ts buildMap.
//
// Commands: `git config -z --get-regexp ^remote\.` once per repository read (our own, then
// `-f <its config>` for each local one), `git config -f <its config> annex.uuid`, and
// `git cat-file blob` of uuid.log, group.log and trust.log (the journal copy first, as git-annex
// has not committed it yet). Nothing read from another repository's config or the git-annex branch
// is used as an option, a path to write or a URL: ids are validated (graph.ts), and a local
// remote's path is only stat'ed and read as a config file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { agentAlive } from '../core/pidfile.js';
import type { Runner } from '../git/runner.js';
import { stateDirOf, statePaths } from '../git/state-paths.js';
import { parseRemoteConfigRecords } from '../annex/remotes.js';
import { isValidUuid } from '../annex/keys.js';
import { costOf, remoteDefs, type RemoteDef } from './costs.js';
import { buildMap, plainGitId, targetOf, type NetworkMap, type RemotesOf } from './graph.js';
import { localRemoteAvailable, parseMountinfo, type FsProbe, type MountEntry } from './mounts.js';

/**
 * At most this many repositories on this machine are read (ours included). A map is of tens of
 * repositories; the bound keeps a ring of clones that name each other, or a hostile config naming
 * hundreds of paths, from turning one `map` into hundreds of git processes.
 */
const MAX_LOCAL_REPOS = 64;

export interface MapPlace {
  workTree: string;
  gitDir: string;
  mode: 'git' | 'annex';
  annexUuid: string | null;
}

/** The real filesystem, for availability (mounts.ts FsProbe). */
export const realFs: FsProbe = {
  exists: (p) => existsSync(p),
  hasEntries: (p) => {
    try {
      return readdirSync(p).length > 0;
    } catch {
      return false;
    }
  },
};

/** /proc/self/mountinfo now, or none where there is no /proc (not Linux). */
export function readMounts(): MountEntry[] {
  try {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

/** Whether a remote can be used now: a local one by its path (mounts.ts); one elsewhere: not known to be down. */
export function remoteAvailable(r: RemoteDef, mounts: readonly MountEntry[], fs: FsProbe = realFs): boolean {
  if (r.path === null) return true;
  return localRemoteAvailable(r.type === 'directory' ? 'directory' : 'git', r.path, fs, mounts);
}

/** The git directory of a repository at `path` (a work tree, its .git, or a bare one), or null. */
function gitDirAt(path: string): string | null {
  for (const d of basename(path) === '.git' ? [path] : [join(path, '.git'), path]) {
    try {
      if (statSync(d).isDirectory() && existsSync(join(d, 'config')) && existsSync(join(d, 'HEAD'))) return d;
    } catch {
      // not here
    }
  }
  return null;
}

async function configRemotes(runner: Runner, file: string | null): Promise<string> {
  const f = file === null ? [] : ['-f', file];
  return (await runner.git(['config', ...f, '-z', '--get-regexp', '^remote\\.'], { okCodes: [1] })).stdout;
}

async function annexLog(runner: Runner, gitDir: string, name: string): Promise<string> {
  try {
    return readFileSync(join(gitDir, 'annex', 'journal', name), 'utf8');
  } catch {
    // No journal entry: the branch has the current version.
  }
  const r = await runner.git(['cat-file', 'blob', `refs/heads/git-annex:${name}`], { okCodes: [128] });
  return r.code === 0 ? r.stdout : '';
}

/** This repository's remotes as the map sees them (the mount watcher's `remotes`). */
export async function readRemoteDefs(runner: Runner, workTree: string): Promise<RemoteDef[]> {
  return remoteDefs(parseRemoteConfigRecords(await configRemotes(runner, null)), workTree);
}

/** Each remote's cost and whether it can be used now, for status (`available`, `cost`). */
export async function remoteLinkFacts(
  runner: Runner,
  workTree: string,
): Promise<Map<string, { available: boolean; cost: number }>> {
  const mounts = readMounts();
  const defs = await readRemoteDefs(runner, workTree);
  return new Map(defs.map((r) => [r.name, { available: remoteAvailable(r, mounts), cost: costOf(r) }]));
}

export async function readMap(runner: Runner, place: MapPlace): Promise<NetworkMap> {
  const annex = place.mode === 'annex';
  let self = annex ? place.annexUuid : plainGitId({ path: place.workTree, url: null, name: '' });
  if (annex && !isValidUuid(self)) {
    const r = await runner.git(['config', 'annex.uuid'], { okCodes: [1] });
    self = r.stdout.trim();
  }
  if (self === null || (annex && !isValidUuid(self))) {
    throw new Error('this annex repository has no annex.uuid: run git annex init, then try again');
  }
  const mounts = readMounts();
  const logs = async (n: string) => (annex ? annexLog(runner, place.gitDir, n) : '');
  const [uuidLog, groupLog, trustLog] = [
    await logs('uuid.log'),
    await logs('group.log'),
    await logs('trust.log'),
  ];

  const ours = remoteDefs(parseRemoteConfigRecords(await configRemotes(runner, null)), place.workTree);
  const read: Array<{ from: string; gitDir: string; defs: RemoteDef[] }> = [
    { from: self, gitDir: place.gitDir, defs: ours },
  ];
  // Each local repository's own annex.uuid, read once: it names the node even where the remote's
  // annex-uuid was never recorded (git-annex records it only once it has talked to the remote).
  const uuidOf = new Map<string, string | null>([[place.gitDir, annex ? self : null]]);
  const gitDirOf = new Map<RemoteDef, string>();
  const agents = new Set<string>();
  if (agentAlive(statePaths(stateDirOf(place.gitDir)).pid)) agents.add(self);
  const todo: RemoteDef[] = [...ours];
  while (todo.length > 0) {
    const r = todo.shift()!;
    if (r.path === null || r.type !== 'git-local' || !remoteAvailable(r, mounts)) continue;
    const gitDir = gitDirAt(r.path);
    if (gitDir === null) continue;
    gitDirOf.set(r, gitDir);
    if (uuidOf.has(gitDir) || uuidOf.size >= MAX_LOCAL_REPOS) continue;
    const cfg = join(gitDir, 'config');
    const own = annex
      ? (await runner.git(['config', '-f', cfg, 'annex.uuid'], { okCodes: [1] })).stdout.trim()
      : '';
    uuidOf.set(gitDir, isValidUuid(own) ? own : null);
    const id = annex ? (isValidUuid(own) ? own : r.uuid) : targetOf(r, false);
    if (id === null) continue;
    // Relative URLs in its config are relative to its work tree (or, bare, to itself).
    const base = basename(gitDir) === '.git' ? dirname(gitDir) : gitDir;
    const theirs = remoteDefs(parseRemoteConfigRecords(await configRemotes(runner, cfg)), base);
    read.push({ from: id, gitDir, defs: theirs });
    if (agentAlive(statePaths(stateDirOf(gitDir)).pid)) agents.add(id);
    todo.push(...theirs);
  }
  const withUuid = (r: RemoteDef): RemoteDef => {
    const d = gitDirOf.get(r);
    const u = d === undefined ? null : (uuidOf.get(d) ?? null);
    return annex && u !== null ? { ...r, uuid: u } : r;
  };
  const remotes: RemotesOf[] = read.map((x) => ({
    from: x.from,
    remotes: x.defs.map(withUuid),
    source: 'config',
  }));

  return buildMap({
    self,
    selfLabel: annex ? '' : `${basename(place.workTree)}`,
    annex,
    uuidLog,
    groupLog,
    trustLog,
    remotes,
    reachable: (_from, r) => remoteAvailable(r, mounts),
    agents,
  });
}
