// Drops: the planned drops of a scan (bridge copies no longer needed, local content no longer
// wanted), run as one `git annex drop --batch` per remote and reason. git-annex enforces numcopies.
//
// Waits on: nothing; the transfer service's scan (service.ts) calls it with the plan's drops.
// Produces: git-annex drops, `transfer` events (state "dropped") on the bus, and the number
//   dropped (the service then tells the agent the location logs changed).
// Which drops run, and grouped how, is pure (dropGroups, table-tested in drops.test.ts).
import type { EventBus } from '../core/bus.js';
import type { Runner } from '../git/runner.js';
import type { Logger } from '../core/log.js';
import type { PlannedDrop } from '../map/planner.js';
import { isSafeRelPath, isValidKey } from '../annex/keys.js';
import { unnameable } from './scan-policy.js';

/** Drops of a scan run as one git-annex process per remote; this bounds a hung one. */
const DROP_TIMEOUT_MS = 10 * 60_000;

export interface DropFilter {
  /** Transfers to or from this remote are paused (null: the local repository, "all" paused). */
  paused: (remote: string | null) => boolean;
  /** The key is being moved right now (it may be the source of an upload). */
  busy: (key: string) => boolean;
}

/** The drops to run, grouped by remote and reason (one git-annex process each), in plan order. */
export function dropGroups(drops: readonly PlannedDrop[], f: DropFilter): PlannedDrop[][] {
  const groups = new Map<string, PlannedDrop[]>();
  for (const d of drops) {
    // A name git-annex cannot be given back (see unnameable) is not dropped: its copy stays.
    if (!isSafeRelPath(d.file) || unnameable(d.file)) continue;
    if (f.paused(d.remote)) continue;
    // Never drop a key that is being moved right now (it may be the source of an upload).
    if (f.busy(d.key)) continue;
    const g = `${d.remote ?? ''}\n${d.reason}`;
    const list = groups.get(g) ?? [];
    list.push(d);
    groups.set(g, list);
  }
  return [...groups.values()];
}

/** git-annex's arguments for one group (all of one remote and reason). */
export function dropArgs(first: Pick<PlannedDrop, 'remote' | 'reason'>): string[] {
  const args = ['annex', 'drop', '--batch', '--json', '--json-error-messages'];
  if (first.remote !== null) args.push(`--from=${first.remote}`);
  // Unwanted local content: --auto lets git-annex re-check preferred content and numcopies.
  if (first.reason === 'unwanted-here') args.push('--auto');
  return args;
}

export interface DropDeps {
  runner: Runner;
  log: Logger;
  bus?: EventBus;
  /** The service is stopping: start no further group. */
  stopping: () => boolean;
}

/** Runs the groups one after the other; returns how many keys git-annex dropped. */
export async function runDrops(groups: readonly PlannedDrop[][], d: DropDeps): Promise<number> {
  let dropped = 0;
  for (const list of groups) {
    if (d.stopping()) break;
    const first = list[0];
    if (!first) continue;
    try {
      const r = await d.runner.git(dropArgs(first), {
        input: list.map((x) => x.file).join('\n') + '\n',
        okCodes: [1],
        timeoutMs: DROP_TIMEOUT_MS,
      });
      for (const line of r.stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const o = JSON.parse(line) as { success?: boolean; key?: string };
          if (o.success === true) {
            dropped++;
            d.bus?.emit('transferChanged', {
              direction: 'upload',
              key: isValidKey(o.key) ? o.key : '',
              remote: first.remote ?? 'here',
              state: 'dropped',
            });
          }
        } catch {
          // A line we cannot read is skipped; the next scan sees the real state.
        }
      }
    } catch (err) {
      d.log.warn({ remote: first.remote, err: String(err) }, 'drop failed');
    }
  }
  return dropped;
}
