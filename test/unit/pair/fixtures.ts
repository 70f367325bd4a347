// Shared by the pairing unit tests: a deterministic random source, a code, and valid settings.
import { createHash } from 'node:crypto';
import type { PairCode } from '../../../src/pair/code.js';
import type { PairSettings } from '../../../src/pair/payload.js';
import type { Random } from '../../../src/pair/protocol.js';

/** Bytes from SHA-512 in counter mode over a seed: the same seed gives the same run. */
export function seeded(seed: string): Random {
  let counter = 0;
  return (n) => {
    const out = Buffer.alloc(n);
    for (let at = 0; at < n;) {
      const block = createHash('sha512').update(`${seed}/${counter++}`).digest();
      at += block.copy(out, at);
    }
    return Uint8Array.from(out);
  };
}

export const CODE: PairCode = { nameplate: 7, words: ['brave', 'otter', 'lucky'] };
export const OTHER_CODE: PairCode = { nameplate: 7, words: ['brave', 'otter', 'lunar'] };

export const SETTINGS: PairSettings = {
  repo: { id: '5e1e8c1f-0000-4000-8000-000000000001', name: 'notes', root: 'a'.repeat(40) },
  remote: {
    name: 'origin',
    urls: ['ssh://git@example.org/srv/notes.git', 'git@example.org:notes.git'],
    knownHosts: ['example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx4mple'],
  },
  key: 'ab'.repeat(32),
  xmpp: { jid: 'anna@example.org', service: 'xmpps://example.org:5223' },
  annex: { remoteUuid: '0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', group: 'client', wanted: 'standard' },
};
