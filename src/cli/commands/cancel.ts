// `cancel KEY`: asks the running agent to cancel the transfer of one git-annex key (not retried).
import { join } from 'node:path';
import { discover } from '../../git/repo.js';
import { controlRequest } from '../../control/client.js';
import { NoAgentError } from '../../control/errors.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';

export function run(args: Args): Promise<number> {
  return cancel(args.cwd, args.positional);
}

async function cancel(cwd: string, positional: string[]): Promise<number> {
  const key = positional[0];
  // An annex key: backend, optional fields, "--", name. Checked here so nothing odd reaches the agent.
  if (positional.length !== 1 || !key || !/^[A-Za-z0-9]+(-[a-zA-Z][0-9]+)*--[^\s/]{1,256}$/.test(key)) {
    throw new CliError('bad-input', 'cancel takes one git-annex key, as shown by `git autosync status`');
  }
  const info = await discover(cwd, { detachedOk: true });
  try {
    await controlRequest(join(info.stateDir, 'control.sock'), { cmd: 'cancel', key }, 10_000);
  } catch (e) {
    if (e instanceof NoAgentError) throw e;
    throw new CliError('agent-failed', e instanceof Error ? e.message : String(e));
  }
  process.stdout.write(`git-autosync: cancelled ${key}\n`);
  return 0;
}
