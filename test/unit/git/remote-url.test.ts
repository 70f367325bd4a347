// The one network-URL check (git/remote-url.ts), asked by the refs watch, the remote poll and the
// annex inventory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNetworkUrl } from '../../../src/git/remote-url.js';

test('isNetworkUrl: scheme:// (not file://) and scp-like host:path name another machine', () => {
  const rows: Array<[url: string, network: boolean]> = [
    ['ssh://host/srv/repo.git', true],
    ['https://example.org/r.git', true],
    ['git://example.org/r.git', true],
    ['git+ssh://host/r', true],
    ['HTTPS://example.org/r.git', true],
    ['host:srv/repo.git', true],
    ['user@host:repo', true],
    ['file:///srv/repo.git', false],
    ['/srv/repo.git', false],
    ['../peer', false],
    ['peer', false],
    ['./a:b', false], // a slash before the colon: a path
    ['/mnt/usb:disk/repo', false],
  ];
  for (const [url, network] of rows) assert.equal(isNetworkUrl(url), network, url);
});
