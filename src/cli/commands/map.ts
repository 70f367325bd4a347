// `map [--json] [--format text|dot]`: the network map as this clone knows it, read from git config
// and the git-annex branch (map/read.ts), with the tree a new key added here would travel. It needs
// no agent; when one runs, the edges its peers told it over XMPP are merged in (map/store.ts), a
// stale one marked so.
import { discover } from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { readMap } from '../../map/read.js';
import { mergePeerEdges, type PeerReport } from '../../map/store.js';
import { controlRequest } from '../../control/client.js';
import { statePaths } from '../../git/state-paths.js';
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
  const own = await readMap(new Runner(place.workTree), place);
  const peers = await peerReports(place.stateDir);
  const map = mapJson(mergePeerEdges(own, peers.reports, Date.now(), { staleMs: peers.staleMs }));
  const out = json ? JSON.stringify(map) : format === 'dot' ? renderDot(map) : renderText(map);
  process.stdout.write(out + '\n');
  return 0;
}

/** What a running agent heard from its peers; nothing when no agent runs. */
async function peerReports(
  stateDir: string,
): Promise<{ reports: PeerReport[]; staleMs: number | undefined }> {
  try {
    const r = await controlRequest<{ reports: PeerReport[]; staleMs: number }>(statePaths(stateDir).sock, {
      cmd: 'map',
    });
    return { reports: r.reports, staleMs: r.staleMs || undefined };
  } catch {
    // No agent, one still starting, or an older one that has no `map` verb: the map is then what
    // this clone's config and the git-annex branch say, as without an agent.
    return { reports: [], staleMs: undefined };
  }
}
