// Every verb of usage.ts and the file that runs it. Each is loaded only when its verb is asked for,
// so `status` does not load the agent and `help` loads nothing at all.
import type { Args } from '../args.js';

export interface Command {
  /** Runs the verb; resolves to the exit status, or throws (main.ts turns that into one line). */
  run(args: Args): Promise<number>;
}

export const COMMANDS: Record<string, () => Promise<Command>> = {
  init: () => import('./init.js'),
  start: () => import('./start.js'),
  stop: () => import('./stop.js'),
  status: () => import('./status.js'),
  sync: () => import('./sync.js'),
  pause: () => import('./pause.js'),
  resume: () => import('./pause.js'),
  notify: () => import('./notify.js'),
  cancel: () => import('./cancel.js'),
  map: () => import('./map.js'),
  demo: () => import('./demo.js'),
  pair: () => import('./pair.js'),
  help: () => import('./help.js'),
};
