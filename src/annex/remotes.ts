// The remotes' annex UUIDs: the one home of reading them from git's config. git-annex records the
// UUID of each remote's repository as `remote.<name>.annex-uuid` when it first talks to it; the
// transfer service (which remote a key goes to), the inventory (which remote reaches a repository)
// and the agent (which repositories a push reached) all read them through here.
import type { Runner } from '../git/runner.js';
import { isValidRemoteName, isValidUuid } from './keys.js';

/** One `remote.<name>.<variable>` record of `git config -z --get-regexp`. */
export interface RemoteConfigRecord {
  remote: string;
  /** The variable, lower case (git prints section and variable names lower-cased). */
  variable: string;
  value: string;
}

/**
 * Parses `git config -z --get-regexp ^remote\.…` ("key\nvalue\0" records). Records of a remote whose
 * name we would not put on a command line are left out. Pure.
 */
export function parseRemoteConfigRecords(z: string): RemoteConfigRecord[] {
  const out: RemoteConfigRecord[] = [];
  for (const rec of z.split('\0')) {
    if (!rec) continue;
    const nl = rec.indexOf('\n');
    const k = nl < 0 ? rec : rec.slice(0, nl);
    const value = nl < 0 ? '' : rec.slice(nl + 1);
    const m = /^remote\.(.+)\.([^.]+)$/.exec(k);
    if (!m || m[1] === undefined || m[2] === undefined || !isValidRemoteName(m[1])) continue;
    out.push({ remote: m[1], variable: m[2].toLowerCase(), value });
  }
  return out;
}

/** The UUID a record names, if it is a remote's annex-uuid and a well-formed one. Pure. */
export function annexUuidOf(r: RemoteConfigRecord): string | null {
  return r.variable === 'annex-uuid' && isValidUuid(r.value) ? r.value : null;
}

/** remote name -> annex UUID, from `git config -z --get-regexp` output. Pure. */
export function parseRemoteUuids(z: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of parseRemoteConfigRecords(z)) {
    const uuid = annexUuidOf(r);
    if (uuid !== null) out.set(r.remote, uuid);
  }
  return out;
}

/** Reads every remote's annex UUID from the repository's config (none: an empty map). */
export async function readRemoteUuids(runner: Runner): Promise<Map<string, string>> {
  const r = await runner.git(['config', '-z', '--get-regexp', '^remote\\..*\\.annex-uuid$'], {
    okCodes: [1],
  });
  return parseRemoteUuids(r.stdout);
}
