// A remote's type and its link cost, from its git config records alone. Pure.
//
// The cost is `remote.<name>.annex-cost` where it is set (git-annex's own key, lower is cheaper),
// else the default git-annex gives a remote of that type. The numbers are git-annex's named costs
// (Config/Cost.hs: cheap 100, nearly cheap 110, semi-expensive 175, expensive 200, very expensive
// 1000, and 50 added for an encrypted git remote); which type takes which is read from each remote
// type's `gen` in git-annex's Remote/*.hs:
//   git remote on a local path          100  (Remote/Git.hs: not a URL -> cheapRemoteCost)
//   git remote over ssh or a URL        200  (Remote/Git.hs: URL -> expensiveRemoteCost)
//   gcrypt, local / remote              110 / 200 (Remote/GCrypt.hs: nearlyCheap / expensive)
//   directory                           100  (Remote/Directory.hs)
//   adb                                 175  (Remote/Adb.hs: "USB or wifi, not as cheap as local")
//   bup, local / remote                 110 / 200 (Remote/Bup.hs)
//   glacier                             1000 (Remote/Glacier.hs)
//   S3, rsync, webdav, hook, external, and any type not listed here: 200 (expensiveRemoteCost)
import { isAbsolute, resolve } from 'node:path';
import type { RemoteConfigRecord } from '../annex/remotes.js';
import { annexUuidOf } from '../annex/remotes.js';
import { isNetworkUrl } from '../git/remote-url.js';

/** git-annex's cheapRemoteCost: a repository on a local path. */
export const COST_CHEAP = 100;
/** git-annex's nearlyCheapRemoteCost: local, with some overhead (gcrypt, bup). */
export const COST_NEARLY_CHEAP = 110;
/** git-annex's semiExpensiveRemoteCost: adb (USB or wifi). */
export const COST_SEMI_EXPENSIVE = 175;
/** git-annex's expensiveRemoteCost: ssh, a URL, and most special remotes. */
export const COST_EXPENSIVE = 200;
/** git-annex's veryExpensiveRemoteCost: glacier (hours to retrieve). */
export const COST_VERY_EXPENSIVE = 1000;
/**
 * The largest cost we accept from annex-cost. git-annex allows any number; a cost past a billion
 * is meaningless next to the defaults and would lose integer precision once summed along a path.
 */
export const COST_MAX = 1_000_000_000;

export type RemoteType =
  | 'git-local'
  | 'git-ssh'
  | 'git-url'
  | 'gcrypt'
  | 'directory'
  | 'adb'
  | 'bup'
  | 'glacier'
  | 'S3'
  | 'rsync'
  | 'webdav'
  | 'hook'
  | 'external'
  | 'special';

/** One remote of a repository, as its git config describes it. */
export interface RemoteDef {
  name: string;
  /** remote.<name>.annex-uuid, validated; null for a plain git remote or one git-annex never saw. */
  uuid: string | null;
  url: string | null;
  type: RemoteType;
  /** annex-cost when set and sane, else null (the default by type applies). */
  configuredCost: number | null;
  /** A path on this machine (local git remote, directory special remote), absolute. */
  path: string | null;
  /** annex-ignore: git-annex does not use it for content. */
  ignore: boolean;
}

const TRUE_RE = /^(true|yes|on|1)$/i;
/** A cost as git config may hold it: a plain decimal, never an expression or exponent. */
const COST_RE = /^[0-9]{1,10}(?:\.[0-9]{1,6})?$/;

/** Parses annex-cost; anything but a plain non-negative number up to COST_MAX is ignored. */
export function parseCost(v: string): number | null {
  if (!COST_RE.test(v.trim())) return null;
  const n = Number(v.trim());
  return Number.isFinite(n) && n <= COST_MAX ? n : null;
}

/** The remotes of one repository, from its `remote.*` records; `repoDir` anchors relative paths. */
export function remoteDefs(records: readonly RemoteConfigRecord[], repoDir: string): RemoteDef[] {
  const vars = new Map<string, Map<string, string>>();
  const uuids = new Map<string, string>();
  for (const r of records) {
    let m = vars.get(r.remote);
    if (!m) vars.set(r.remote, (m = new Map()));
    m.set(r.variable, r.value);
    const u = annexUuidOf(r);
    if (u !== null) uuids.set(r.remote, u);
  }
  const out: RemoteDef[] = [];
  for (const [name, v] of vars) {
    const url = v.get('url') ?? null;
    const directory = v.get('annex-directory') ?? null;
    const type = remoteType(v, url);
    const path = localPath(type, url, directory, v.get('annex-buprepo') ?? null, repoDir);
    // A remote with neither a URL nor a special-remote type is a leftover section: not a link.
    if (url === null && type === 'special' && !v.has('annex-uuid')) continue;
    const cost = v.get('annex-cost');
    out.push({
      name,
      uuid: uuids.get(name) ?? null,
      url,
      type,
      configuredCost: cost === undefined ? null : parseCost(cost),
      path,
      ignore: TRUE_RE.test(v.get('annex-ignore') ?? ''),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where on this machine the remote keeps its data, if it does; null for a remote elsewhere. */
function localPath(
  type: RemoteType,
  url: string | null,
  directory: string | null,
  buprepo: string | null,
  repoDir: string,
): string | null {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(repoDir, p));
  if (type === 'directory') return directory ? abs(directory) : null;
  // bup's repository is "host:path" for a remote one, a plain path for a local one.
  if (type === 'bup') return buprepo && !buprepo.includes(':') ? abs(buprepo) : null;
  if (url === null || (type !== 'git-local' && type !== 'gcrypt')) return null;
  const u = type === 'gcrypt' ? url.slice('gcrypt::'.length) : url;
  if (isNetworkUrl(u)) return null;
  return abs(u.startsWith('file://') ? u.slice('file://'.length) : u);
}

function remoteType(v: ReadonlyMap<string, string>, url: string | null): RemoteType {
  if (v.has('annex-directory')) return 'directory';
  if (v.has('annex-s3')) return 'S3';
  if (v.has('annex-glacier')) return 'glacier';
  if (v.has('annex-adb')) return 'adb';
  if (v.has('annex-buprepo')) return 'bup';
  if (v.has('annex-rsyncurl')) return 'rsync';
  if (v.has('annex-webdav')) return 'webdav';
  if (v.has('annex-hooktype')) return 'hook';
  if (v.has('annex-externaltype')) return 'external';
  if (url === null) return 'special';
  if (url.startsWith('gcrypt::')) return 'gcrypt';
  if (!isNetworkUrl(url)) return 'git-local';
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) && !/^(ssh|git\+ssh|ssh\+git):\/\//.test(url)
    ? 'git-url'
    : 'git-ssh';
}

/** The cost git-annex gives a remote of this type when annex-cost is not set (table above). */
export function defaultCost(d: Pick<RemoteDef, 'type' | 'path'>): number {
  switch (d.type) {
    case 'git-local':
    case 'directory':
      return COST_CHEAP;
    case 'gcrypt':
    case 'bup':
      return d.path !== null ? COST_NEARLY_CHEAP : COST_EXPENSIVE;
    case 'adb':
      return COST_SEMI_EXPENSIVE;
    case 'glacier':
      return COST_VERY_EXPENSIVE;
    default:
      return COST_EXPENSIVE;
  }
}

export function costOf(d: RemoteDef): number {
  return d.configuredCost ?? defaultCost(d);
}
