// A remote that comes back gets its content (issue 11, item 5). Files added while the cloud was
// gone were planned without it (it was unreachable); when a push to it works again, the agent plans
// the whole tree again, and the files reach it without any further new file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { git, write } from '../helpers/repos.js';
import { AgentProc, cli } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { annex, hasKey, initAnnex, initBareAnnex, scratch, syncGit } from '../helpers/annex.js';

/** The agent's 'transfer scan' log lines, in order. */
function scanLines(repo: string): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(join(repo, '.git', 'autosync', 'agent.log'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.includes('"transfer scan"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test(
  'files added while the cloud was away reach it once it answers again',
  { timeout: 120_000 },
  async (t) => {
    const d = scratch(t);
    const C = initBareAnnex(join(d.path, 'cloud.git'), 'cloud');
    const A = initAnnex(join(d.path, 'A'), 'laptop A');
    write(A, 'README.txt', 'seed\n');
    git(A, 'add', '.');
    git(A, 'commit', '-q', '-m', 'seed');
    git(A, 'remote', 'add', 'cloud', C);
    syncGit(A);
    // The pusher's retries of a failing remote stay within a second of each other.
    git(A, 'config', 'autosync.retryMaxInterval', '1');
    const r = cli(['-C', A, 'init', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const agent = new AgentProc(A);
    d.defer(() => agent.stop().catch(() => agent.kill9()));
    await agent.start();

    // The cloud goes away (a server down, a network gone: its path answers nothing).
    const away = `${C}.away`;
    renameSync(C, away);
    const scansBefore = scanLines(A).length;
    const names = ['a.txt', 'b.txt', 'c.txt'];
    for (const n of names) write(A, `away/${n}`, `written while the cloud was away: ${n}\n`);
    const keys = await waitFor(
      () => {
        try {
          return names.map((n) => annex(A, 'lookupkey', `away/${n}`).trim());
        } catch {
          return null;
        }
      },
      { timeoutMs: 20_000, what: 'the three files committed into the annex' },
    );
    // Their keys were planned while the cloud was away: no upload. (One scan, or several when the
    // committer made more than one commit of them.)
    await waitFor(
      () => {
        const later = scanLines(A).slice(scansBefore);
        const planned = later.reduce((n, o) => n + (typeof o.scope === 'number' ? o.scope : 0), 0);
        return planned >= names.length && later.every((o) => o.uploads === 0);
      },
      {
        timeoutMs: 20_000,
        what: () => `the scans of the new keys, without the cloud: ${JSON.stringify(scanLines(A))}`,
      },
    );
    await waitFor(
      async () => (await agent.status()).remotes.some((x) => x.name === 'cloud' && x.error !== null),
      { timeoutMs: 20_000, what: 'the push to the cloud failing' },
    );

    renameSync(away, C);
    // No new file: the push that works again sets off the content.
    await waitFor(() => keys.every((k) => hasKey(C, k)), {
      timeoutMs: 30_000,
      what: 'the content of the three files on the cloud',
    });
    const st = await agent.status();
    assert.equal(st.remotes.find((x) => x.name === 'cloud')?.error, null);
  },
);
