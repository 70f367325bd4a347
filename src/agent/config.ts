// Configuration from git config, section `autosync` (interface.md fixes the keys). Read once at
// start; every key is optional and has its default here, with the reason beside it.
import { isAbsolute, join, resolve } from 'node:path';
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import { UserError } from '../git/errors.js';
import { DEFAULT_RETRY_MAX_MS } from './pusher.js';
import { DEFAULT_POLL_MS } from './remote-poll.js';

export interface AgentConfig {
  xmpp: {
    jid: string | null;
    service: string | null;
    room: string | null;
    resource: string | null;
    passwordFile: string | null;
  };
  keyFile: string;
  /**
   * Watch the refs of remotes that are bare repositories on local paths (autosync.watchRemotes).
   * On by default: a shared folder then needs no XMPP account. Off, peers learn only through pushes
   * into this clone and through XMPP.
   */
  watchRemotes: boolean;
  /** Repository id in signals (autosync.repoId); default: derived from the key. */
  repoId: string | null;
  notifyCommand: string | null;
  /** Ceiling of the retry interval for a remote that stays down (autosync.retryMaxInterval, seconds). */
  retryMaxMs: number;
  /** Concurrent content transfers in annex mode (autosync.transferSlots). */
  transferSlots: number;
  /** Period of the fetch of network remotes when XMPP is off (autosync.pollInterval, seconds;
   * 0 turns it off). See remote-poll.ts. */
  pollMs: number;
  /** autosync.ignore, every value in order (multi-valued): rules for editor and OS temporary
   * files on top of the defaults (src/git/transient.ts, docs/ignore.md). */
  ignore: string[];
}

export async function loadConfig(runner: Runner, info: RepoInfo): Promise<AgentConfig> {
  const r = await runner.git(['config', '-z', '--get-regexp', '^autosync\\.'], { okCodes: [1] });
  const kv = new Map<string, string>();
  for (const entry of r.stdout.split('\0')) {
    const nl = entry.indexOf('\n');
    if (nl > 0) kv.set(entry.slice(0, nl).toLowerCase(), entry.slice(nl + 1));
  }
  const get = (k: string) => kv.get(k.toLowerCase()) ?? null;
  // Multi-valued: the map above keeps only the last value of a key.
  const ignore = (await runner.git(['config', '-z', '--get-all', 'autosync.ignore'], { okCodes: [1] })).stdout
    .split('\0')
    .filter(Boolean);
  const path = (v: string | null) => (v === null ? null : isAbsolute(v) ? v : resolve(info.workTree, v));
  const num = (k: string, def: number, min: number, max: number) => {
    const v = get(k);
    if (v === null) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new UserError(`git config ${k} must be a number from ${min} to ${max} (it is '${v}')`);
    }
    return n;
  };
  return {
    xmpp: {
      jid: get('autosync.xmpp.jid'),
      service: get('autosync.xmpp.service'),
      room: get('autosync.xmpp.room'),
      resource: get('autosync.xmpp.resource'),
      passwordFile: path(get('autosync.xmpp.passwordFile')),
    },
    keyFile: path(get('autosync.keyFile')) ?? join(info.stateDir, 'key'),
    repoId: get('autosync.repoId'),
    watchRemotes: !/^(false|no|off|0)$/i.test(get('autosync.watchRemotes') ?? 'true'),
    notifyCommand: get('autosync.notifyCommand'),
    retryMaxMs: num('autosync.retryMaxInterval', DEFAULT_RETRY_MAX_MS / 1000, 1, 7 * 24 * 3600) * 1000,
    // Two parallel transfers keep a link busy without starving the git side on a 2-core machine.
    transferSlots: num('autosync.transferSlots', 2, 1, 32),
    pollMs: num('autosync.pollInterval', DEFAULT_POLL_MS / 1000, 0, 24 * 3600) * 1000,
    ignore,
  };
}
