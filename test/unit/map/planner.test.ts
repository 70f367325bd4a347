import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, type KeyInfo, type RepoInfo } from '../../../src/map/planner.js';

// Repositories: here (laptop A), a LAN peer D (cheap), a cloud bridge C (transfer group), a backup S
// (expensive), and laptop B on another LAN (known from the git-annex branch, not a remote of ours).
const A = 'aaaaaaaa-0000-0000-0000-000000000000';
const B = 'bbbbbbbb-0000-0000-0000-000000000000';
const C = 'cccccccc-0000-0000-0000-000000000000';
const D = 'dddddddd-0000-0000-0000-000000000000';
const S = 'eeeeeeee-0000-0000-0000-000000000000';

function repo(uuid: string, p: Partial<RepoInfo> = {}): RepoInfo {
  return { uuid, here: false, cost: 200, reachable: true, transfer: false, explicitWanted: false, ...p };
}
const here = repo(A, { here: true, cost: 0 });
const b = repo(B);
const c = repo(C, { remote: 'cloud', transfer: true, cost: 300 });
const d = repo(D, { remote: 'desk', cost: 100 });
const s = repo(S, { remote: 'backup', cost: 250 });

function key(k: string, present: string[], wantedBy: string[]): KeyInfo {
  return { key: `SHA256E-s1--${k}`, file: `${k}.bin`, size: 1, present, wantedBy };
}

interface Row {
  name: string;
  repos: RepoInfo[];
  keys: KeyInfo[];
  downloads: string[]; // "key<-remote(+fallbacks)"
  uploads: string[]; // "key->remote"
  drops: string[]; // "key x remote|here (reason)"
}

const rows: Row[] = [
  {
    name: 'new content here goes to every reachable remote that wants it; the bridge carries it to B',
    repos: [here, b, c, d],
    keys: [key('k1', [A], [A, B, D])],
    downloads: [],
    uploads: ['k1->desk', 'k1->cloud'],
    drops: [],
  },
  {
    name: 'no one beyond our reach lacks it: the bridge is not used',
    repos: [here, c, d],
    keys: [key('k1', [A], [A, D])],
    downloads: [],
    uploads: ['k1->desk'],
    drops: [],
  },
  {
    name: 'download from the cheapest holder, others as fallbacks',
    repos: [here, c, d, s],
    keys: [key('k1', [C, D, S], [A, D, S])],
    downloads: ['k1<-desk(+backup,cloud)'],
    uploads: [],
    // A (here) still lacks it, so the bridge keeps it until the download is done.
    drops: [],
  },
  {
    name: 'unreachable holder is not a source',
    repos: [here, { ...d, reachable: false }, s],
    keys: [key('k1', [D, S], [A])],
    downloads: ['k1<-backup'],
    uploads: [],
    drops: [],
  },
  {
    name: 'B wants only some keys: the bridge takes only those B lacks',
    repos: [here, b, c],
    keys: [key('jpg', [A], [A, B]), key('txt', [A], [A])],
    downloads: [],
    uploads: ['jpg->cloud'],
    drops: [],
  },
  {
    name: 'everyone who wants it has it: the bridge drops its copy',
    repos: [here, b, c],
    keys: [key('k1', [A, B, C], [A, B])],
    downloads: [],
    uploads: [],
    drops: ['k1 x cloud (bridge-done)'],
  },
  {
    name: 'B still lacks it: the bridge keeps it',
    repos: [here, b, c],
    keys: [key('k1', [A, C], [A, B])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'a key nobody wants is left alone on the bridge (not "everyone has it")',
    repos: [here, b, c],
    keys: [key('k1', [C], [])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'we are B: we want it, it is on the bridge: download from it, no drop yet',
    repos: [repo(B, { here: true, cost: 0 }), repo(A), c],
    keys: [key('k1', [A, C], [A, B])],
    downloads: ['k1<-cloud'],
    uploads: [],
    drops: [],
  },
  {
    name: 'unwanted local content with an explicit expression is dropped (git-annex checks numcopies)',
    repos: [{ ...here, explicitWanted: true }, d],
    keys: [key('txt', [A, D], [D])],
    downloads: [],
    uploads: [],
    drops: ['txt x here (unwanted-here)'],
  },
  {
    name: 'no expression here: keep everything',
    repos: [here, d],
    keys: [key('txt', [A, D], [D])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'here is the bridge: drops its own copy once all wanters have it',
    repos: [repo(C, { here: true, transfer: true, cost: 0 }), repo(A, { remote: 'a' }), b],
    keys: [key('k1', [A, B, C], [A, B])],
    downloads: [],
    uploads: [],
    drops: ['k1 x here (bridge-done)'],
  },
  {
    name: 'here is the bridge: fetches what B needs from A and sends nothing it cannot',
    repos: [
      repo(C, { here: true, transfer: true, cost: 0 }),
      repo(A, { remote: 'a' }),
      repo(B, { remote: 'b' }),
    ],
    keys: [key('k1', [A], [A, B])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'dead or unknown wanters do not count',
    repos: [here, c],
    keys: [key('k1', [A], [A, 'ffffffff-0000-0000-0000-000000000000'])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'repositories without a remote name are never transfer targets',
    repos: [here, b],
    keys: [key('k1', [A], [A, B])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'nothing here and no reachable holder: nothing to do',
    repos: [here, b],
    keys: [key('k1', [B], [A, B])],
    downloads: [],
    uploads: [],
    drops: [],
  },
  {
    name: 'a read-only remote is a source, never a target, and is not dropped from',
    repos: [here, b, { ...c, readonly: true }, { ...d, readonly: true }],
    keys: [key('up', [A], [A, B, D]), key('down', [C], [A, B]), key('done', [A, B, C], [A, B])],
    downloads: ['down<-cloud'],
    uploads: [],
    drops: [],
  },
  {
    name: 'a peer whose own agent pulls from us is not uploaded to (it downloads what it wants); the bridge still is',
    repos: [here, b, c, { ...d, pulls: true }],
    keys: [key('k1', [A], [A, B, D])],
    downloads: [],
    uploads: ['k1->cloud'],
    drops: [],
  },
  {
    name: 'the pulling peer is the downloader: we fetch from it, as it would from us',
    repos: [here, { ...d, pulls: true }],
    keys: [key('k1', [D], [A, D])],
    downloads: ['k1<-desk'],
    uploads: [],
    drops: [],
  },
  {
    name: 'equal costs: remote name breaks the tie (stable order)',
    repos: [here, repo(D, { remote: 'zeta', cost: 100 }), repo(S, { remote: 'alpha', cost: 100 })],
    keys: [key('k1', [D, S], [A])],
    downloads: ['k1<-alpha(+zeta)'],
    uploads: [],
    drops: [],
  },
];

for (const r of rows) {
  test(`planner: ${r.name}`, () => {
    const p = plan(r.repos, r.keys);
    const short = (k: string) => k.replace('SHA256E-s1--', '');
    assert.deepEqual(
      p.downloads.map(
        (x) => `${short(x.key)}<-${x.remote}${x.fallbacks.length ? `(+${x.fallbacks.join(',')})` : ''}`,
      ),
      r.downloads,
    );
    assert.deepEqual(
      p.uploads.map((x) => `${short(x.key)}->${x.remote}`),
      r.uploads,
    );
    assert.deepEqual(
      p.drops.map((x) => `${short(x.key)} x ${x.remote ?? 'here'} (${x.reason})`),
      r.drops,
    );
  });
}

test('planner: no here repository -> empty plan', () => {
  assert.deepEqual(plan([b, c], [key('k', [B], [B])]), { downloads: [], uploads: [], drops: [] });
});
