// Config watch: notices that the repository's git config changed (a remote added, removed or
// re-pointed with `git remote`, by hand or by a tool), so the agent picks up its remotes without a
// restart. Waits on the kernel (fs.watch on the git directory, no polling): git writes the config
// as `config.lock` and renames it onto `config`, which is one event naming `config`.
// Produces: one onChange() call per settled burst of writes (a `git remote add` writes the file
// two or three times in a row).
import { watch, type FSWatcher } from 'node:fs';
import type { Service, ServiceContext } from './service.js';

/** `git remote add` then `git config remote.x.…` in a script: one reload for the lot. */
const SETTLE_MS = 300;

export class ConfigWatch implements Service {
  readonly name = 'config-watch';
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly gitDir: string,
    private readonly onChange: () => void,
  ) {}

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
