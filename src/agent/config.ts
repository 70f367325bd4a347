// Configuration from git config, section `autosync` (interface.md fixes the keys). Read once at
// start; every key is optional and has its default here, with the reason beside it. Every value is
// checked by the one check of its key (CONFIG_CHECKS), which `init`, the wizard and `start` share:
// a wrong value stops with exit 2 and a line naming the key and what a right value looks like.
import { parsePlanner } from '../map/tree-plan.js';
import { isAbsolute, resolve } from 'node:path';
import type { Runner } from '../git/runner.js';
import type { RepoInfo } from '../git/repo.js';
import { UserError } from '../core/errors.js';
import { isId, jidProblem, resourceProblem, roomProblem, serviceProblem } from '../signal/validate.js';
import { DEFAULT_RETRY_MAX_MS } from './pusher.js';
import { DEFAULT_POLL_MS } from './remote-poll.js';
import { DEFAULT_LARGE_FILE_WARNING } from '../git/large-files.js';
import { statePaths } from '../git/state-paths.js';

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
  /** Files at least this big (bytes) that go into git itself, not git-annex, are warned about in
   * the log and status (autosync.largeFileWarning; 0 turns it off). See git/large-files.ts. */
  largeFileWarning: number;
  /** autosync.planner: `tree` routes new content along the cheapest tree of the network map
   * (map/tree-plan.ts), `flood` sends it to every remote that wants it (map/planner.ts). */
  planner: 'tree' | 'flood';
  /** autosync.ignore, every value in order (multi-valued): rules for editor and OS temporary
   * files on top of the defaults (src/git/transient.ts, docs/ignore.md). */
  ignore: string[];
}

/** git's spellings of a boolean (git-config(1), "boolean"); anything else is an error, not true. */
const TRUE_RE = /^(true|yes|on|1)$/i;
const FALSE_RE = /^(false|no|off|0)$/i;

export function parseGitBool(value: string): boolean | null {
  return TRUE_RE.test(value) ? true : FALSE_RE.test(value) ? false : null;
}

function boolProblem(value: string): string | null {
  return parseGitBool(value) === null ? 'must be true or false (or yes/no, on/off, 1/0)' : null;
}

/** A whole number in [min, max], digits only: "" is not 0, 1.5 is not 1, 1k is not 1024 here. */
function intProblem(min: number, max: number, unit: string, note = '') {
  return (value: string): string | null =>
    /^[0-9]{1,9}$/.test(value) && Number(value) >= min && Number(value) <= max
      ? null
      : `must be a whole number of ${unit} from ${min} to ${max}${note}`;
}

function notEmpty(what: string) {
  return (value: string): string | null =>
    value === '' ? `must be ${what}; unset it for the default` : null;
}

/** Bounds of the numeric keys, with their reasons. */
// A week: a remote down longer than that is still tried once a week, never given up.
const RETRY_MAX_S = { min: 1, max: 7 * 24 * 3600 };
// 0 turns polling off; a day is the slowest period that still deserves the name sync.
const POLL_S = { min: 0, max: 24 * 3600 };
// At least one transfer; 32 so that a typo (200) cannot start hundreds of git-annex processes.
const SLOTS = { min: 1, max: 32 };

// The intProblem pattern takes up to 9 digits: just under 1 GB is the largest threshold one can set.
const LARGE_WARN_MAX = 999_999_999;

/** The one check of each key. Keys not listed (notifyCommand, any other) are not checked. */
export const CONFIG_CHECKS: Record<string, (value: string) => string | null> = {
  'autosync.xmpp.jid': jidProblem,
  'autosync.xmpp.service': serviceProblem,
  'autosync.xmpp.room': roomProblem,
  'autosync.xmpp.resource': resourceProblem,
  'autosync.xmpp.passwordFile': notEmpty('the path of a file that holds the password'),
  'autosync.keyFile': notEmpty('the path of the repository key file'),
  'autosync.repoId': (v) =>
    isId(v) ? null : 'must be 1 to 128 of A-Z a-z 0-9 . _ - (not starting with . or -)',
  'autosync.watchRemotes': boolProblem,
  'autosync.retryMaxInterval': intProblem(RETRY_MAX_S.min, RETRY_MAX_S.max, 'seconds'),
  'autosync.transferSlots': intProblem(SLOTS.min, SLOTS.max, 'transfers'),
  'autosync.pollInterval': intProblem(POLL_S.min, POLL_S.max, 'seconds', ' (0 turns polling off)'),
  'autosync.largeFileWarning': intProblem(0, LARGE_WARN_MAX, 'bytes', ' (0 turns the warning off)'),
  'autosync.planner': (v) => (/^(tree|flood)$/i.test(v.trim()) ? null : 'must be tree or flood'),
};
/** git prints key names in lower case; the checks and the messages use the documented spelling. */
const CANONICAL = new Map(Object.keys(CONFIG_CHECKS).map((k) => [k.toLowerCase(), k]));

/**
 * The line that says what is wrong with `key = value`, or null when it is right. `value` null is a
 * key written without "= value" in a config file, which git reads as true.
 */
export function configProblem(key: string, value: string | null): string | null {
  const name = CANONICAL.get(key.toLowerCase());
  const check = name === undefined ? undefined : CONFIG_CHECKS[name];
  if (!check) return null;
  const problem = check(value ?? (check === boolProblem ? 'true' : ''));
  return problem === null ? null : `${name} ${JSON.stringify(value ?? '')} is wrong: it ${problem}`;
}

export async function loadConfig(runner: Runner, info: RepoInfo): Promise<AgentConfig> {
  const r = await runner.git(['config', '-z', '--get-regexp', '^autosync\\.'], { okCodes: [1] });
  const kv = new Map<string, string | null>();
  for (const entry of r.stdout.split('\0')) {
    if (!entry) continue;
    const nl = entry.indexOf('\n');
    // No newline: a key with no "= value" (git's implicit true).
    kv.set((nl < 0 ? entry : entry.slice(0, nl)).toLowerCase(), nl < 0 ? null : entry.slice(nl + 1));
  }
  for (const [k, v] of kv) {
    const problem = configProblem(k, v);
    if (problem) throw new UserError(`git config ${problem}`);
  }
  const get = (k: string): string | null => {
    const v = kv.get(k.toLowerCase());
    return v === undefined ? null : (v ?? 'true');
  };
  // Multi-valued: the map above keeps only the last value of a key.
  const ignore = (await runner.git(['config', '-z', '--get-all', 'autosync.ignore'], { okCodes: [1] })).stdout
    .split('\0')
    .filter(Boolean);
  const path = (v: string | null) => (v === null ? null : isAbsolute(v) ? v : resolve(info.workTree, v));
  const num = (k: string, def: number) => {
    const v = get(k);
    return v === null ? def : Number(v);
  };
  return {
    xmpp: {
      jid: get('autosync.xmpp.jid'),
      service: get('autosync.xmpp.service'),
      room: get('autosync.xmpp.room'),
      resource: get('autosync.xmpp.resource'),
      passwordFile: path(get('autosync.xmpp.passwordFile')),
    },
    keyFile: path(get('autosync.keyFile')) ?? statePaths(info.stateDir).key,
    repoId: get('autosync.repoId'),
    watchRemotes: parseGitBool(get('autosync.watchRemotes') ?? 'true')!,
    notifyCommand: get('autosync.notifyCommand'),
    retryMaxMs: num('autosync.retryMaxInterval', DEFAULT_RETRY_MAX_MS / 1000) * 1000,
    // Two parallel transfers keep a link busy without starving the git side on a 2-core machine.
    transferSlots: num('autosync.transferSlots', 2),
    pollMs: num('autosync.pollInterval', DEFAULT_POLL_MS / 1000) * 1000,
    largeFileWarning: num('autosync.largeFileWarning', DEFAULT_LARGE_FILE_WARNING),
    planner: parsePlanner(get('autosync.planner')),
    ignore,
  };
}
