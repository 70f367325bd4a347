import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRemoteConfigRecords } from '../../../src/annex/remotes.js';
import { costOf, parseCost, remoteDefs, type RemoteDef } from '../../../src/map/costs.js';
import {
  buildMap,
  cleanLabel,
  parseGroupLog,
  parseTrustLog,
  plainGitId,
  type MapFacts,
} from '../../../src/map/graph.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000000';
const B = 'bbbbbbbb-0000-4000-8000-000000000000';
const C = 'cccccccc-0000-4000-8000-000000000000';
const D = 'dddddddd-0000-4000-8000-000000000000';
const WEB = '00000000-0000-0000-0000-000000000001';

/** `git config -z --get-regexp ^remote\.` output from key=value pairs. */
function z(pairs: Array<[string, string]>): string {
  return pairs.map(([k, v]) => `${k}\n${v}\0`).join('');
}
function defs(pairs: Array<[string, string]>): RemoteDef[] {
  return remoteDefs(parseRemoteConfigRecords(z(pairs)), '/home/u/repo');
}

test('remote types and their costs: annex-cost, else git-annex defaults by type', () => {
  const rows: Array<{
    name: string;
    cfg: Array<[string, string]>;
    type: string;
    cost: number;
    path: string | null;
  }> = [
    {
      name: 'local path',
      cfg: [['remote.r.url', '../other']],
      type: 'git-local',
      cost: 100,
      path: '/home/u/other',
    },
    {
      name: 'file://',
      cfg: [['remote.r.url', 'file:///srv/x']],
      type: 'git-local',
      cost: 100,
      path: '/srv/x',
    },
    { name: 'scp-like ssh', cfg: [['remote.r.url', 'host:repo']], type: 'git-ssh', cost: 200, path: null },
    { name: 'ssh://', cfg: [['remote.r.url', 'ssh://h/r']], type: 'git-ssh', cost: 200, path: null },
    { name: 'https', cfg: [['remote.r.url', 'https://h/r']], type: 'git-url', cost: 200, path: null },
    {
      name: 'annex-cost wins',
      cfg: [
        ['remote.r.url', '../o'],
        ['remote.r.annex-cost', '1000'],
      ],
      type: 'git-local',
      cost: 1000,
      path: '/home/u/o',
    },
    {
      name: 'a fractional cost',
      cfg: [
        ['remote.r.url', 'h:r'],
        ['remote.r.annex-cost', '150.5'],
      ],
      type: 'git-ssh',
      cost: 150.5,
      path: null,
    },
    {
      name: 'a nonsense cost is ignored',
      cfg: [
        ['remote.r.url', 'h:r'],
        ['remote.r.annex-cost', '1e9; rm'],
      ],
      type: 'git-ssh',
      cost: 200,
      path: null,
    },
    {
      name: 'directory',
      cfg: [
        ['remote.r.annex-directory', '/mnt/usb/annex'],
        ['remote.r.annex-uuid', A],
      ],
      type: 'directory',
      cost: 100,
      path: '/mnt/usb/annex',
    },
    {
      name: 'S3',
      cfg: [
        ['remote.r.annex-s3', 'true'],
        ['remote.r.annex-uuid', A],
      ],
      type: 'S3',
      cost: 200,
      path: null,
    },
    {
      name: 'glacier',
      cfg: [
        ['remote.r.annex-glacier', 'true'],
        ['remote.r.annex-uuid', A],
      ],
      type: 'glacier',
      cost: 1000,
      path: null,
    },
    {
      name: 'adb',
      cfg: [
        ['remote.r.annex-adb', 'true'],
        ['remote.r.annex-uuid', A],
      ],
      type: 'adb',
      cost: 175,
      path: null,
    },
    {
      name: 'gcrypt local',
      cfg: [['remote.r.url', 'gcrypt::/srv/g']],
      type: 'gcrypt',
      cost: 110,
      path: '/srv/g',
    },
    {
      name: 'gcrypt ssh',
      cfg: [['remote.r.url', 'gcrypt::ssh://h/g']],
      type: 'gcrypt',
      cost: 200,
      path: null,
    },
    {
      name: 'external',
      cfg: [
        ['remote.r.annex-externaltype', 'rclone'],
        ['remote.r.annex-uuid', A],
      ],
      type: 'external',
      cost: 200,
      path: null,
    },
  ];
  for (const r of rows) {
    const [d] = defs(r.cfg);
    assert.ok(d, r.name);
    assert.equal(d.type, r.type, r.name);
    assert.equal(costOf(d), r.cost, r.name);
    assert.equal(d.path, r.path, r.name);
  }
  assert.equal(parseCost('-5'), null);
  assert.equal(parseCost('99999999999'), null);
});

test('the git-annex branch is checked line by line: bad uuids, groups and trust values are dropped', () => {
  const trust = parseTrustLog(
    `${A} X timestamp=1s\n${B} 1 timestamp=1s\nnot-a-uuid 1\n${C} maybe timestamp=1s\n`,
  );
  assert.deepEqual(
    [...trust],
    [
      [A, 'dead'],
      [B, 'trusted'],
    ],
  );
  const groups = parseGroupLog(`${A} transfer client timestamp=1s\n${B} $(rm) timestamp=1s\n`);
  assert.deepEqual([...groups], [[A, ['client', 'transfer']]]);
  assert.equal(cleanLabel('evil\x1b[2Jname\n'), 'evil [2Jname');
  assert.equal(cleanLabel('x'.repeat(500)).length, 200);
});

function facts(p: Partial<MapFacts>): MapFacts {
  return {
    self: A,
    selfLabel: 'laptop',
    annex: true,
    uuidLog: '',
    groupLog: '',
    trustLog: '',
    remotes: [],
    reachable: () => true,
    ...p,
  };
}

test('buildMap: nodes from uuid.log, edges from remotes, dead repositories left out', () => {
  const m = buildMap(
    facts({
      uuidLog: [
        `${A} laptop timestamp=1s`,
        `${B} desk timestamp=1s`,
        `${C} cloud timestamp=1s`,
        `${D} old timestamp=1s`,
        `${WEB} web timestamp=1s`,
      ].join('\n'),
      groupLog: `${C} transfer timestamp=1s\n`,
      trustLog: `${D} X timestamp=1s\n`,
      remotes: [
        {
          from: A,
          source: 'config',
          remotes: defs([
            ['remote.desk.url', '../desk'],
            ['remote.desk.annex-uuid', B],
            ['remote.cloud.url', 'ssh://h/c'],
            ['remote.cloud.annex-uuid', C],
            ['remote.cloud.annex-cost', '1000'],
            ['remote.old.url', '../old'],
            ['remote.old.annex-uuid', D],
            ['remote.plain.url', '../plain'],
          ]),
        },
        {
          from: B,
          source: 'config',
          remotes: defs([
            ['remote.lap.url', '../repo'],
            ['remote.lap.annex-uuid', A],
          ]),
        },
      ],
      reachable: (_from, r) => r.name !== 'desk',
    }),
  );
  assert.deepEqual(
    m.nodes.map((n) => [n.label, n.here, n.group]),
    [
      ['laptop', true, null],
      ['desk', false, null],
      ['cloud', false, 'transfer'],
    ],
  );
  assert.deepEqual(
    m.edges.map((x) => `${x.from.slice(0, 1)}>${x.to.slice(0, 1)} ${x.remote} ${x.cost} ${x.reachable}`),
    ['a>b desk 100 false', 'a>c cloud 1000 true', 'b>a lap 100 true'],
  );
  assert.deepEqual(m.dead, [D], 'the dead repository is kept aside, for the merge with peers');
});

test('buildMap in plain git: nodes by path or URL', () => {
  const m = buildMap(
    facts({
      self: 'path:/home/u/repo',
      annex: false,
      remotes: [
        {
          from: 'path:/home/u/repo',
          source: 'config',
          remotes: defs([
            ['remote.o.url', 'h:r'],
            ['remote.d.url', '/mnt/d/'],
          ]),
        },
      ],
    }),
  );
  assert.deepEqual(
    m.edges.map((x) => `${x.to} ${x.remote}`),
    ['path:/mnt/d d', 'url:h:r o'],
  );
  assert.equal(plainGitId({ path: null, url: null, name: 'x' }), 'remote:x');
});
