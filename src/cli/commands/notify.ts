// `notify [--remote R]`: tells the running agent that a remote changed, so it fetches now (for a
// notifyCommand or a post-receive hook on the other side).
import { discover } from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { remotes as remotesCmd } from '../../git/commands.js';
import { controlRequest } from '../../control/client.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';
import { statePaths } from '../../git/state-paths.js';

export function run(args: Args): Promise<number> {
  return notify(args.cwd, args.flags.get('--remote'));
}

async function notify(cwd: string, remote: string | true | undefined): Promise<number> {
  const info = await discover(cwd, { detachedOk: true });
  const remotes = typeof remote === 'string' ? [remote] : undefined;
  if (typeof remote === 'string') await requireRemote(info, remote);
  try {
    await controlRequest(statePaths(info.stateDir).sock, { cmd: 'notify', remotes }, 10_000);
  } catch {
    // Whatever went wrong (no socket, no answer in time), the agent was not told.
    throw new CliError('no-agent', 'no agent is running for this repository');
  }
  return 0;
}

/** An unknown remote is bad input (exit 2), as `pause --remote` answers it. */
async function requireRemote(info: { workTree: string }, name: string): Promise<void> {
  const names = (await new Runner(info.workTree).run(remotesCmd())).map((r) => r.name);
  if (!names.includes(name)) {
    throw new CliError(
      'bad-input',
      `'${name}' is not a remote of this repository (${names.length ? `it has ${names.join(', ')}` : 'it has none'}); see 'git remote -v'`,
    );
  }
}
