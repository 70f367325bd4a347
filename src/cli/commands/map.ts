// `map [--json] [--format text|dot]`: the network map as this clone knows it, read from git config
// and the git-annex branch (map/read.ts), with the tree a new key added here would travel. It needs
// no agent.
import { discover } from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { readMap } from '../../map/read.js';
import { mapJson, renderDot, renderText } from '../../map/render.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';

const FORMATS = ['text', 'dot'] as const;

export async function run(args: Args): Promise<number> {
  const format = args.flags.get('--format') ?? 'text';
  if (typeof format !== 'string' || !(FORMATS as readonly string[]).includes(format)) {
    throw new CliError(
      'bad-usage',
      `--format takes text or dot (got '${String(format)}'); see 'git autosync help map'`,
    );
  }
  const json = args.flags.has('--json');
  if (json && args.flags.has('--format')) {
    throw new CliError(
      'bad-usage',
      "--json and --format are two ways to print the map: give one; see 'git autosync help map'",
    );
  }
  const place = await discover(args.cwd, { detachedOk: true });
  const map = mapJson(await readMap(new Runner(place.workTree), place));
  const out = json ? JSON.stringify(map) : format === 'dot' ? renderDot(map) : renderText(map);
  process.stdout.write(out + '\n');
  return 0;
}
