// `cancel KEY`: asks the running agent to cancel the transfer of one git-annex key (not retried).
import { isValidKey } from '../../annex/keys.js';
import { discover } from '../../git/repo.js';
import { controlRequest } from '../../control/client.js';
import { NoAgentError } from '../../control/errors.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';
import { statePaths } from '../../git/state-paths.js';

export function run(args: Args): Promise<number> {
  return cancel(args.cwd, args.positional);
}

async function cancel(cwd: string, positional: string[]): Promise<number> {
  const key = positional[0];
  // An annex key, by the agent's own rule (annex/keys.ts): checked here so nothing odd reaches it.
  if (positional.length !== 1 || !isValidKey(key)) {
    throw new CliError('bad-input', 'cancel takes one git-annex key, as shown by `git autosync status`');
  }
  const info = await discover(cwd, { detachedOk: true });
  try {
    await controlRequest(statePaths(info.stateDir).sock, { cmd: 'cancel', key }, 10_000);
  } catch (e) {
    if (e instanceof NoAgentError) throw e;
    throw new CliError('agent-failed', e instanceof Error ? e.message : String(e));
  }
  process.stdout.write(`git-autosync: cancelled ${key}\n`);
  return 0;
}
