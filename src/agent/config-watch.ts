// Config watch: notices that the repository's git config changed (a remote added, removed or
// re-pointed with `git remote`, an autosync.* setting edited, by hand or by a tool), so the agent
// picks up its remotes and the settings it can change live without a restart (configChanges below
// decides which those are). Waits on the kernel (fs.watch on the git directory, no polling): git writes the config
// as `config.lock` and renames it onto `config`, which is one event naming `config`.
// Produces: one onChange() call per settled burst of writes (a `git remote add` writes the file
// two or three times in a row).
import { watch, type FSWatcher } from 'node:fs';
import type { Service, ServiceContext } from '../core/service.js';
import type { AgentConfig } from './config.js';

/** `git remote add` then `git config remote.x.…` in a script: one reload for the lot. */
const SETTLE_MS = 300;

/**
 * Settings the running agent applies as soon as they change: the hook is read at each push, the
 * refs watch is restarted, the retry ceiling and the poll period apply from their next wait, and
 * the transfer pool opens or closes lanes; the large-file threshold and the temporary-file rules (autosync.ignore) apply from the next commit. Everything else (xmpp.*, keyFile, repoId, ...) is built
 * into a connection or an identity at start, and takes a restart.
 */
export const LIVE_KEYS: ReadonlySet<string> = new Set([
  'autosync.notifyCommand',
  'autosync.watchRemotes',
  'autosync.retryMaxInterval',
  'autosync.pollInterval',
  'autosync.transferSlots',
  'autosync.largeFileWarning',
  'autosync.ignore',
]);

/** The git config key of an AgentConfig field, where it is not autosync.<field path>. */
const GIT_KEY: Record<string, string> = {
  retryMaxMs: 'autosync.retryMaxInterval',
  pollMs: 'autosync.pollInterval',
};

function flatten(o: object, prefix: string, out: Map<string, string>): Map<string, string> {
  for (const [k, v] of Object.entries(o)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as object, path, out);
    else out.set(GIT_KEY[path] ?? `autosync.${path}`, JSON.stringify(v ?? null));
  }
  return out;
}

/**
 * Which settings differ between two configurations, as git config keys: those the agent applies
 * live, and those that need a restart. A setting this table does not know (one added later) needs
 * a restart: the safe answer. Pure.
 */
export function configChanges(
  before: AgentConfig,
  after: AgentConfig,
): { live: string[]; restart: string[] } {
  const a = flatten(before, '', new Map());
  const b = flatten(after, '', new Map());
  const live: string[] = [];
  const restart: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(k) === b.get(k)) continue;
    (LIVE_KEYS.has(k) ? live : restart).push(k);
  }
  return { live: live.sort(), restart: restart.sort() };
}

export class ConfigWatch implements Service {
  readonly name = 'config-watch';
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  private readonly gitDir: string;
  private readonly onChange: () => void;

  constructor(d: { gitDir: string; /** The config file changed (debounced). */ onChange: () => void }) {
    this.gitDir = d.gitDir;
    this.onChange = d.onChange;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.watcher = watch(this.gitDir, { persistent: true }, (_ev, name) => {
      if (name === null || String(name) !== 'config') return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.onChange();
      }, SETTLE_MS);
    });
    // The git directory going away is fatal for the whole agent; the supervisor reports it.
    this.watcher.on('error', (e) => ctx.fail(e));
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
  }
}
