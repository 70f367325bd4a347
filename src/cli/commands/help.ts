// `help [VERB]`, `VERB --help`, `-h`: the usage, or every option of VERB and what its exit codes
// mean, all printed from the tables in ../usage.ts.
import type { Args } from '../args.js';
import { CliError, EXIT } from '../exit-codes.js';
import { usage, verbHelp, verbSpec } from '../usage.js';

export function run(args: Args): Promise<number> {
  const name = args.verb === 'help' ? args.positional[0] : (args.verb ?? undefined);
  const spec = name === undefined ? undefined : verbSpec(name);
  if (name !== undefined && !spec)
    return Promise.reject(new CliError('bad-usage', `unknown verb '${name}'; see 'git autosync help'`));
  process.stdout.write((spec ? verbHelp(spec) : usage()) + '\n');
  return Promise.resolve(EXIT.ok);
}
