// `pause [--remote R]` and `resume [--remote R]`: ask the running agent to pause or resume syncing
// with everything or one remote. The agent keeps the pause across restarts.
import { statePaths } from '../../git/state-paths.js';
import { discover } from '../../git/repo.js';
import { controlRequest } from '../../control/client.js';
import { NoAgentError } from '../../control/errors.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';

export function run(args: Args): Promise<number> {
  return pauseResume(args.cwd, args.verb === 'pause' ? 'pause' : 'resume', args.flags.get('--remote'));
}

async function pauseResume(
  cwd: string,
  verb: 'pause' | 'resume',
  remote: string | true | undefined,
): Promise<number> {
  const info = await discover(cwd, { detachedOk: true });
  const r = typeof remote === 'string' ? remote : undefined;
  try {
    await controlRequest(statePaths(info.stateDir).sock, { cmd: verb, remote: r }, 10_000);
  } catch (e) {
    if (e instanceof NoAgentError) {
      throw new CliError('no-agent', `${e.message}; start it with 'git autosync start'`);
    }
    // The agent refused the request: R is not one of its remotes.
    throw new CliError('bad-input', String(e instanceof Error ? e.message : e));
  }
  process.stdout.write(
    `git-autosync: ${verb === 'pause' ? 'paused' : 'resumed'}${r ? ` remote '${r}'` : ''}\n`,
  );
  return 0;
}
