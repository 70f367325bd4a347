// `status [--json] [--watch]`: the running agent's state, or the same picture built without one
// (../status.ts) when nothing answers on its socket.
import { discover } from '../../git/repo.js';
import { controlRequest } from '../../control/client.js';
import type { StatusJson } from '../../status/types.js';
import { renderStatus } from '../render.js';
import { offlineStatus } from '../../status/offline.js';
import type { Args } from '../args.js';
import { statePaths } from '../../git/state-paths.js';

export function run(args: Args): Promise<number> {
  return status(args.cwd, args.flags.has('--json'), args.flags.has('--watch'));
}

async function getStatus(cwd: string): Promise<StatusJson> {
  const info = await discover(cwd, { detachedOk: true });
  try {
    return await controlRequest<StatusJson>(statePaths(info.stateDir).sock, { cmd: 'status' }, 10_000);
  } catch {
    return offlineStatus(info);
  }
}

async function status(cwd: string, json: boolean, watch: boolean): Promise<number> {
  // Clearing the screen between two pictures is for a terminal; into a pipe or a file, each
  // picture simply follows the last.
  const clear = watch && !json && process.stdout.isTTY === true ? '\x1b[2J\x1b[H' : '';
  for (;;) {
    const st = await getStatus(cwd);
    if (json) process.stdout.write(JSON.stringify(st) + '\n');
    else process.stdout.write(clear + renderStatus(st, process.stdout.columns ?? 80) + '\n');
    if (!watch) return 0;
    await new Promise((r) => setTimeout(r, 500));
  }
}
