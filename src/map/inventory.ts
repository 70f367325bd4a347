// The inventory: asks git-annex what exists, where it is and who wants it, and turns the answers into
// the planner's input. Parsing is split into pure functions (unit-tested on captured output); the
// class only runs the commands. Every value from git-annex output (keys, uuids, paths, remote names)
// is validated here, because the git-annex branch is written by peers and is not trusted.
//
// Commands per scan (each one process, whatever the number of files):
//   git annex info --fast --json          repositories and which one is here (also merges the
//                                         remotes' git-annex branches into ours first)
//   git config -z --get-regexp ^remote\.  remote names, uuids, costs, annex-ignore, local paths
//   git cat-file blob git-annex:group.log / preferred-content.log (journal first, if present)
//   git annex whereis --json              every annexed file in the work tree: key and holders
//   git annex find --want-get[-by=UUID]   once per repository with an explicit preferred content
import { existsSync, readFileSync, statSync } from 'node:fs';
import { agentAlive } from '../core/pidfile.js';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Runner } from '../git/runner.js';
import { isNetworkUrl } from '../git/remote-url.js';
import { stateDirOf, statePaths } from '../git/state-paths.js';
import { isSafeRelPath, isValidKey, isValidUuid, keySize } from '../annex/keys.js';
import { annexUuidOf, parseRemoteConfigRecords } from '../annex/remotes.js';
import type { KeyInfo, RepoInfo } from './planner.js';

/** git-annex's built-in pseudo-repositories (web, bittorrent): never a place we transfer to. */
const SPECIAL_UUID_PREFIX = '00000000-0000-0000-0000-';
/** git-annex's documented defaults: local repositories cost 100, remote ones 200. */
const COST_LOCAL = 100;
const COST_REMOTE = 200;
/** A scan over a large repository can take a while, but not this long unless something is hung. */
const SCAN_TIMEOUT_MS = 5 * 60_000;

export interface InfoRepo {
  uuid: string;
  description: string;
  here: boolean;
  trust: 'trusted' | 'semitrusted' | 'untrusted';
}

/** Parses `git annex info --fast --json`. Dead repositories are not listed there, so they drop out. */
export function parseInfoRepos(json: string): InfoRepo[] {
  const out: InfoRepo[] = [];
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(json.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  } catch {
    return out;
  }
  for (const trust of ['trusted', 'semitrusted', 'untrusted'] as const) {
    const list = obj[`${trust} repositories`];
    if (!Array.isArray(list)) continue;
    for (const r of list as Array<Record<string, unknown>>) {
      if (!isValidUuid(r.uuid) || r.uuid.startsWith(SPECIAL_UUID_PREFIX)) continue;
      out.push({
        uuid: r.uuid,
        description: typeof r.description === 'string' ? r.description : '',
        here: r.here === true,
        trust,
      });
    }
  }
  return out;
}

export interface RemoteConfig {
  name: string;
  uuid: string | null;
  url: string | null;
  cost: number | null;
  ignore: boolean;
  /** Local directory for a directory special remote (annex-directory). */
  directory: string | null;
  readonly: boolean;
}

/** Parses `git config -z --get-regexp ^remote\.` ("name\nvalue\0" records). Pure. */
export function parseRemoteConfig(z: string): RemoteConfig[] {
  const byName = new Map<string, RemoteConfig>();
  for (const rec of parseRemoteConfigRecords(z)) {
    const { remote: name, variable: varName, value: v } = rec;
    let r = byName.get(name);
    if (!r) {
      r = { name, uuid: null, url: null, cost: null, ignore: false, directory: null, readonly: false };
      byName.set(name, r);
    }
    const uuid = annexUuidOf(rec);
    if (uuid !== null) r.uuid = uuid;
    else if (varName === 'url') r.url = v;
    else if (varName === 'annex-cost' && /^-?[0-9]+(\.[0-9]+)?$/.test(v)) r.cost = Number(v);
    else if (varName === 'annex-ignore') r.ignore = /^(true|yes|on|1)$/i.test(v);
    else if (varName === 'annex-readonly') r.readonly = /^(true|yes|on|1)$/i.test(v);
    else if (varName === 'annex-directory') r.directory = v;
  }
  return [...byName.values()];
}

/** A local filesystem location for a remote, if it has one (git remote by path, directory remote). */
export function localPathOf(r: RemoteConfig, repoDir: string): string | null {
  if (r.directory) return isAbsolute(r.directory) ? r.directory : resolve(repoDir, r.directory);
  const u = r.url;
  if (!u) return null;
  if (u.startsWith('file://')) return u.slice('file://'.length);
  if (isNetworkUrl(u)) return null;
  return isAbsolute(u) ? u : resolve(repoDir, u);
}

/**
 * Parses a uuid-keyed git-annex log (group.log, preferred-content.log): lines of
 * `<uuid> <value…> timestamp=<t>s`. The newest line per uuid wins. Pure.
 */
export function parseUuidLog(text: string): Map<string, string> {
  const best = new Map<string, { t: number; v: string }>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 2) continue;
    const uuid = parts[0];
    if (!isValidUuid(uuid)) continue;
    let t = 0;
    const last = parts[parts.length - 1] ?? '';
    const tm = /^timestamp=([0-9.]+)s?$/.exec(last);
    let valueParts = parts.slice(1);
    if (tm && tm[1] !== undefined) {
      t = Number(tm[1]);
      valueParts = parts.slice(1, -1);
    }
    const prev = best.get(uuid);
    if (!prev || t >= prev.t) best.set(uuid, { t, v: valueParts.join(' ') });
  }
  return new Map([...best].map(([u, x]) => [u, x.v]));
}

export interface WhereisEntry {
  key: string;
  file: string;
  present: string[];
}

/** Parses `git annex whereis --json` lines. Lines that fail validation are skipped. Pure. */
export function parseWhereis(out: string): WhereisEntry[] {
  const res: WhereisEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (!isValidKey(o.key) || !isSafeRelPath(o.file)) continue;
    const present: string[] = [];
    for (const field of ['whereis', 'untrusted']) {
      const l = o[field];
      if (!Array.isArray(l)) continue;
      for (const e of l as Array<Record<string, unknown>>) {
        if (isValidUuid(e.uuid) && !present.includes(e.uuid)) present.push(e.uuid);
      }
    }
    res.push({ key: o.key, file: o.file, present });
  }
  return res;
}

export interface Inventory {
  repos: RepoInfo[];
  keys: KeyInfo[];
  /** remote name -> uuid, for every annex remote (reachable or not). */
  remoteUuids: Map<string, string>;
  hereUuid: string;
}

export interface InventoryOptions {
  /** Remotes known to be down right now (a transfer failed as unreachable); planned as unreachable. */
  down?: ReadonlySet<string>;
  /** Treat a repository with no preferred content as wanting everything (flood). Default true. */
  defaultWantAll?: boolean;
  annexDir: string;
  /**
   * Look only at these work-tree paths (a targeted scan after a commit) instead of the whole tree.
   * Fed to git-annex on stdin (--batch -z), never as arguments.
   */
  paths?: readonly string[];
}

export class InventoryReader {
  constructor(
    private readonly runner: Runner,
    private readonly repoDir: string,
  ) {}

  async read(opts: InventoryOptions): Promise<Inventory> {
    const t = { timeoutMs: SCAN_TIMEOUT_MS };
    const info = await this.runner.git(['annex', 'info', '--fast', '--json'], t);
    const infoRepos = parseInfoRepos(info.stdout);
    const here = infoRepos.find((r) => r.here);
    if (!here) throw new Error('git annex info named no repository as here: is this an annex repository?');

    const cfg = await this.runner.git(['config', '-z', '--get-regexp', '^remote\\.'], { okCodes: [1] });
    const remotes = parseRemoteConfig(cfg.stdout).filter((r) => r.uuid !== null);
    const groups = parseUuidLog(await this.annexLog('group.log', opts.annexDir));
    const wanted = parseUuidLog(await this.annexLog('preferred-content.log', opts.annexDir));
    const inGroup = (u: string, g: string) => (groups.get(u) ?? '').split(' ').includes(g);

    const remoteUuids = new Map<string, string>();
    const repos: RepoInfo[] = [];
    for (const r of infoRepos) {
      const transfer = inGroup(r.uuid, 'transfer');
      const explicitWanted = (wanted.get(r.uuid) ?? '').trim().length > 0;
      if (r.here) {
        repos.push({ uuid: r.uuid, here: true, cost: 0, reachable: true, transfer, explicitWanted });
        continue;
      }
      // The cheapest of the remotes that point at this repository, if any does.
      const rs = remotes
        .filter((x) => x.uuid === r.uuid)
        .map((x) => ({ x, cost: x.cost ?? (localPathOf(x, this.repoDir) ? COST_LOCAL : COST_REMOTE) }))
        .sort((a, b) => a.cost - b.cost);
      const best = rs[0];
      if (!best) {
        repos.push({
          uuid: r.uuid,
          here: false,
          cost: COST_REMOTE,
          reachable: false,
          transfer,
          explicitWanted,
        });
        continue;
      }
      for (const { x } of rs) remoteUuids.set(x.name, r.uuid);
      const path = localPathOf(best.x, this.repoDir);
      const reachable = !best.x.ignore && !opts.down?.has(best.x.name) && (path === null || existsSync(path));
      repos.push({
        uuid: r.uuid,
        remote: best.x.name,
        here: false,
        cost: best.cost,
        reachable,
        transfer,
        explicitWanted,
        readonly: best.x.readonly,
        pulls: reachable && path !== null && (await this.agentPullsFrom(path, here.uuid)),
      });
    }

    const paths = opts.paths?.filter(isSafeRelPath);
    const batch = paths ? { input: paths.join('\0') + '\0' } : {};
    const batchArgs = paths ? ['--batch', '-z'] : [];
    const w = await this.runner.git(['annex', 'whereis', '--json', ...batchArgs], {
      ...t,
      ...batch,
      okCodes: [1],
    });
    const entries = parseWhereis(w.stdout);
    const byKey = new Map<string, WhereisEntry>();
    for (const e of entries) if (!byKey.has(e.key)) byKey.set(e.key, e);

    const allKeys = [...byKey.keys()];
    const wantedBy = new Map<string, string[]>(allKeys.map((k) => [k, []]));
    for (const r of repos) {
      if (r.transfer) continue;
      let keys: string[];
      if (!r.explicitWanted) {
        if (opts.defaultWantAll === false) continue;
        keys = allKeys;
      } else {
        const sel = r.here ? '--want-get' : `--want-get-by=${r.uuid}`;
        // With --batch, a path that does not match prints a blank line; only keys are kept.
        const f = await this.runner.git(['annex', 'find', sel, '--format=${key}\\n', ...batchArgs], {
          ...t,
          ...batch,
        });
        keys = f.stdout.split('\n').filter(isValidKey);
      }
      for (const k of keys) wantedBy.get(k)?.push(r.uuid);
    }

    const keys: KeyInfo[] = [...byKey.values()].map((e) => ({
      key: e.key,
      file: e.file,
      size: keySize(e.key),
      present: e.present,
      wantedBy: wantedBy.get(e.key) ?? [],
    }));
    return { repos, keys, remoteUuids, hereUuid: here.uuid };
  }

  /**
   * Whether the non-bare repository at `path` (a remote of ours on this machine) runs a live
   * git-autosync agent that has us as a usable annex remote, and so downloads what it wants from us
   * by itself. Only local remotes can be asked; for a network remote the answer is "no", and we
   * upload (git-annex-shell on the far side records the transfer, which its agent then sees).
   */
  private async agentPullsFrom(path: string, hereUuid: string): Promise<boolean> {
    // The remote's url may name the work tree or its .git directory.
    const gitDir = basename(path) === '.git' ? path : join(path, '.git');
    try {
      if (!statSync(gitDir).isDirectory()) return false; // a bare repository or a gitfile link
    } catch {
      return false;
    }
    if (!agentAlive(statePaths(stateDirOf(gitDir)).pid)) return false;
    const cfg = await this.runner.git(
      ['config', '-f', join(gitDir, 'config'), '-z', '--get-regexp', '^remote\\.'],
      {
        okCodes: [1],
      },
    );
    return parseRemoteConfig(cfg.stdout).some((r) => {
      if (r.uuid !== hereUuid || r.ignore) return false;
      const p = localPathOf(r, dirname(gitDir));
      return p === null || existsSync(p);
    });
  }

  /** A log file from the git-annex branch; an uncommitted journal copy (the whole file) wins. */
  private async annexLog(name: string, annexDir: string): Promise<string> {
    try {
      return readFileSync(join(annexDir, 'journal', name), 'utf8');
    } catch {
      // No journal entry: the branch has the current version.
    }
    const r = await this.runner.git(['cat-file', 'blob', `refs/heads/git-annex:${name}`], { okCodes: [128] });
    return r.code === 0 ? r.stdout : '';
  }
}
