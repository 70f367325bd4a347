// `git autosync map` on real git-annex repositories, with no agent: a laptop with a desk clone next
// to it (a local remote, cost 100), a bare cloud repository in the transfer group (annex-cost 1000),
// a drive that is not there now, a repository marked dead, and a laptop on the far side known only
// from the git-annex branch. What the map must show is read from git config and the branch alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { git, tmpDir } from '../helpers/repos.js';
import { annex, initAnnex, initBareAnnex, syncGit } from '../helpers/annex.js';
import { cli } from '../helpers/agents.js';

interface MapOut {
  self: string;
  nodes: Array<{ id: string; label: string; here: boolean; agent: boolean; group: string | null }>;
  edges: Array<{
    from: string;
    to: string;
    remote: string;
    cost: number;
    reachable: boolean;
    source: string;
  }>;
  tree: Array<{ from: string; to: string }>;
  unreachable: string[];
}

const uuidOf = (repo: string) => git(repo, 'config', 'annex.uuid').trim();

test('map: nodes, links with costs and reachability, the tree for a new key, in json, text and dot', (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const p = (n: string) => join(tmp.path, n);
  const laptop = initAnnex(p('laptop'), 'laptop');
  git(laptop, 'commit', '-q', '--allow-empty', '-m', 'first');
  const cloud = initBareAnnex(p('cloud.git'), 'cloud');
  git(laptop, 'remote', 'add', 'cloud', cloud);
  git(laptop, 'config', 'remote.cloud.annex-cost', '1000');
  annex(laptop, 'group', 'cloud', 'transfer');
  syncGit(laptop);
  // The desk: a clone beside the laptop, each a remote of the other.
  git(tmp.path, 'clone', '-q', laptop, 'desk');
  const desk = p('desk');
  annex(desk, 'init', '-q', 'desk');
  git(laptop, 'remote', 'add', 'desk', desk);
  // The far laptop: reaches only the cloud; the laptop learns of it through the git-annex branch.
  git(tmp.path, 'clone', '-q', cloud, 'far');
  const far = p('far');
  annex(far, 'init', '-q', 'far');
  syncGit(far);
  // A drive, seen once, now out; an old repository marked dead.
  const drive = initAnnex(p('drive'), 'drive');
  git(laptop, 'remote', 'add', 'drive', drive);
  const old = initAnnex(p('old'), 'old');
  git(laptop, 'remote', 'add', 'old', old);
  syncGit(laptop);
  annex(laptop, 'dead', 'old');
  // Unplugged: the clone is gone and the empty mount point is left behind (a path that is simply
  // missing, beside other things, is a remote that fails, not a drive that is out).
  renameSync(drive, p('drive-unplugged'));
  mkdirSync(drive);

  const r = cli(['-C', laptop, 'map', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout) as MapOut;
  const L = uuidOf(laptop);
  const D = uuidOf(desk);
  const C = uuidOf(cloud);
  const F = uuidOf(far);
  const V = uuidOf(p('drive-unplugged'));
  assert.equal(m.self, L);
  const labels = new Map(m.nodes.map((n) => [n.id, n.label]));
  assert.deepEqual(
    [...labels.values()].sort(),
    ['cloud', 'desk', 'drive', 'far', 'laptop'],
    'every repository but the dead one',
  );
  assert.equal(m.nodes.find((n) => n.id === C)?.group, 'transfer');
  assert.ok(m.nodes.find((n) => n.id === L)?.here);
  const link = (from: string, remote: string) => m.edges.find((e) => e.from === from && e.remote === remote);
  assert.deepEqual(link(L, 'desk'), {
    from: L,
    to: D,
    remote: 'desk',
    cost: 100,
    reachable: true,
    source: 'config',
    type: 'git-local',
    stale: false,
  });
  assert.equal(link(L, 'cloud')?.cost, 1000);
  assert.equal(link(L, 'drive')?.to, V);
  assert.equal(link(L, 'drive')?.reachable, false, 'the drive is out');
  assert.equal(link(L, 'old'), undefined, 'no link to a dead repository');
  // The desk's own remote back to the laptop, read from the desk's config on this machine.
  assert.equal(link(D, 'origin')?.to, L);
  // A new key here goes to the desk; the far laptop runs no agent that would fetch from the cloud,
  // and the drive is out: both reported, and the cloud (a transfer repository) pruned.
  assert.deepEqual(m.tree, [{ from: L, to: D }]);
  assert.deepEqual(m.unreachable, [V, F].sort());

  const text = cli(['-C', laptop, 'map']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /laptop +drive +drive +100 +git-local +no +config/);
  assert.match(text.stdout, /a new key added here would travel:\n {2}laptop -> desk \(desk, cost 100\)/);
  const dot = cli(['-C', laptop, 'map', '--format', 'dot']);
  assert.equal(dot.code, 0, dot.stderr);
  assert.match(dot.stdout, /^digraph autosync_map \{/);
  assert.ok(dot.stdout.includes(`"${L}" -> "${D}" [label="desk 100", penwidth=3, color=blue];`), dot.stdout);

  // status says the same of each remote: the drive is away (not failing), the cloud costs 1000.
  const st = cli(['-C', laptop, 'status', '--json']);
  assert.equal(st.code, 0, st.stderr);
  const remotes = (
    JSON.parse(st.stdout) as { remotes: Array<{ name: string; available: boolean; cost: number }> }
  ).remotes;
  const facts = (n: string) => remotes.find((x) => x.name === n);
  assert.deepEqual([facts('drive')?.available, facts('drive')?.cost], [false, 100]);
  assert.deepEqual([facts('cloud')?.available, facts('cloud')?.cost], [true, 1000]);

  const bad = cli(['-C', laptop, 'map', '--format', 'svg']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^git-autosync: --format takes text or dot \(got 'svg'\)/);
  assert.equal(bad.stderr.split('\n').filter(Boolean).length, 1);
});

test('map in a plain git repository: nodes by path, one link per remote', (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const a = join(tmp.path, 'a');
  git(tmp.path, 'init', '-q', '-b', 'main', 'a');
  git(tmp.path, 'init', '-q', '--bare', 'origin.git');
  git(a, 'remote', 'add', 'origin', join(tmp.path, 'origin.git'));
  git(a, 'remote', 'add', 'server', 'ssh://example.invalid/r.git');
  const r = cli(['-C', a, 'map', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout) as MapOut;
  assert.equal(m.self, `path:${a}`);
  assert.deepEqual(
    m.edges.map((e) => [e.to, e.cost, e.reachable]),
    [
      [`path:${join(tmp.path, 'origin.git')}`, 100, true],
      ['url:ssh://example.invalid/r.git', 200, true],
    ],
  );
});
