// The XMPP rendezvous against a real Prosody and a real ejabberd on loopback: a whole pairing run (runOffer/runAccept)
// in same-account mode and in a room, a wrong code seen on both sides, no offer to find, a third
// occupant in the room, and a wrong password refused at once. Everything sent through the server
// is checked for the code words and the key.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { rawClient, rawJoin, type ProsodyServer } from '../helpers/prosody.js';
import { XMPP_SERVERS } from '../helpers/xmpp-servers.js';
import { NS_PAIR, openRendezvous, pairRoom, type RendezvousOptions } from '../../src/pair/rendezvous-xmpp.js';
import { runAccept, runOffer } from '../../src/pair/session.js';
import { ChannelError, PAIR_MESSAGE_MAX } from '../../src/pair/channel.js';
import { xml } from '@xmpp/client';
import { waitFor } from '../helpers/wait.js';
import type { PairCode } from '../../src/pair/code.js';
import type { PairSettings } from '../../src/pair/payload.js';

const PASSWORD = 'pairing horse';
/** The server of the suite running now (the suites run one after the other). */
let server: ProsodyServer;
const log = pino({ level: 'silent' });

const CODE: PairCode = { nameplate: 41, words: ['brave', 'otter', 'lucky'] };
const WRONG: PairCode = { nameplate: 41, words: ['brave', 'otter', 'lunar'] };
const settings = (): PairSettings => ({
  repo: { id: 'repo-1', name: 'notes', root: 'a'.repeat(40) },
  remote: { name: 'origin', urls: ['git://127.0.0.1:9/notes.git'] },
  key: 'cd'.repeat(32),
  xmpp: { jid: `anna@${server.domain}`, service: server.service },
});

function opts(role: 'offer' | 'accept', over: Partial<RendezvousOptions> = {}): RendezvousOptions {
  return {
    role,
    nameplate: CODE.nameplate,
    jid: `anna@${server.domain}`,
    service: server.service,
    password: PASSWORD,
    mode: { kind: 'account' },
    log,
    findTimeoutMs: 10_000,
    ...over,
  };
}

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { err: Error & { code?: string } }> {
  try {
    return { ok: await p };
  } catch (e) {
    return { err: e as Error & { code?: string } };
  }
}

async function pairOnce(o: RendezvousOptions, a: RendezvousOptions, code = CODE) {
  const offerCh = await openRendezvous(o);
  const offering = settle(
    runOffer(offerCh, { code: CODE, label: 'desk', settings: settings(), expiresAt: Date.now() + 60_000 }),
  );
  const accepting = settle(
    openRendezvous(a).then((ch) =>
      runAccept(ch, { code, label: 'lap', apply: () => Promise.resolve({ ok: true }) }),
    ),
  );
  return Promise.all([offering, accepting]);
}

for (const kind of XMPP_SERVERS) {
  describe(kind.name, { skip: kind.skip }, () => {
    before(async () => {
      server = await kind.start();
      await server.register('anna', PASSWORD);
      await server.register('bert', PASSWORD);
      await server.register('eve', PASSWORD);
    });
    after(async () => {
      await server?.stop();
    });

    test('same account: a whole pairing over directed messages; both sides name each other', async () => {
      const [o, a] = await pairOnce(opts('offer'), opts('accept'));
      assert.ok('ok' in o, JSON.stringify(o));
      assert.ok('ok' in a, JSON.stringify(a));
      assert.equal(o.ok.peer, 'lap');
      assert.equal(a.ok.peer, 'desk');
      assert.equal(o.ok.verifier, a.ok.verifier);
      assert.deepEqual(a.ok.settings, settings());
    });

    test('same account: a wrong code fails on both sides (the offerer sees the wrong code, the new device an unconfirmed attempt)', async () => {
      const [o, a] = await pairOnce(opts('offer'), opts('accept'), WRONG);
      assert.ok('err' in o && 'err' in a);
      assert.equal(o.err.code, 'pair-wrong-code');
      // The new device proved its guess first; an abort is not authenticated, so all it can know is
      // that the offerer did not confirm (src/pair/protocol.ts).
      assert.equal(a.err.code, 'pair-unconfirmed');
    });

    test('same account: no offer with that nameplate is a timeout of the channel', async () => {
      const r = await settle(openRendezvous(opts('accept', { nameplate: 999, findTimeoutMs: 1_000 })));
      assert.ok('err' in r);
      assert.ok(r.err instanceof ChannelError);
      assert.equal(r.err.failure, 'timeout');
    });

    test('a wrong password is refused at once as a login failure, with no retry', async () => {
      const r = await settle(openRendezvous(opts('offer', { password: 'nope' })));
      assert.ok('err' in r && r.err instanceof ChannelError, JSON.stringify(r));
      assert.equal(r.err.failure, 'login');
    });

    test('room: two accounts pair in a room named after the nameplate; a third occupant burns it', async () => {
      const room = pairRoom(CODE.nameplate, server.muc);
      assert.doesNotMatch(room, /brave|otter|lucky/);
      const mode = { kind: 'room', room } as const;
      const [o, a] = await pairOnce(
        opts('offer', { mode }),
        opts('accept', { mode, jid: `bert@${server.domain}` }),
      );
      assert.ok('ok' in o && 'ok' in a, JSON.stringify([o, a]));
      assert.equal(a.ok.peer, 'desk');

      // A third occupant: the offerer, waiting for a hello, fails crowded.
      const offerCh = await openRendezvous(opts('offer', { mode }));
      const offering = settle(
        runOffer(offerCh, {
          code: CODE,
          label: 'desk',
          settings: settings(),
          expiresAt: Date.now() + 60_000,
        }),
      );
      const acceptCh = await openRendezvous(opts('accept', { mode, jid: `bert@${server.domain}` }));
      const eve = await rawClient(server, 'eve', PASSWORD, 'x');
      try {
        await rawJoin(eve, room, 'eve');
        const r = await offering;
        assert.ok('err' in r);
        assert.equal(r.err.code, 'pair-crowded');
      } finally {
        await acceptCh.close();
        await eve.stop();
      }
    });

    test('raw stanzas: nothing that crosses the server holds the code words or the key, in any encoding', async () => {
      const seen: string[] = [];
      const capture = pino({ level: 'debug' }, { write: (l: string) => void seen.push(l) });
      const key = settings().key;
      const [o, a] = await pairOnce(
        opts('offer', { log: capture, debug: true }),
        opts('accept', { log: capture, debug: true }),
      );
      assert.ok('ok' in o && 'ok' in a);
      const stanzas = seen
        .map((l) => JSON.parse(l) as { stanza?: string })
        .map((l) => l.stanza)
        .filter((x): x is string => typeof x === 'string');
      const frames = stanzas.filter((x) => x.includes(NS_PAIR) && x.includes('<pair '));
      assert.ok(frames.length >= 5, `the five messages were traced (${frames.length})`);
      const keyBytes = Buffer.from(key, 'hex');
      const secrets = [
        ...CODE.words,
        CODE.words.join('-'),
        key,
        key.toUpperCase(),
        keyBytes.toString('base64'),
        keyBytes.toString('base64url'),
      ];
      for (const text of stanzas) {
        for (const s of secrets)
          assert.ok(!text.toLowerCase().includes(s.toLowerCase()), `a stanza holds ${s}`);
        // The frames' bytes, decoded: neither the key nor the words' text inside.
        for (const m of text.matchAll(/<pair xmlns="[^"]+">([A-Za-z0-9+/=]+)<\/pair>/g)) {
          const bytes = Buffer.from(m[1]!, 'base64');
          assert.equal(bytes.indexOf(keyBytes), -1);
          assert.equal(bytes.indexOf(Buffer.from(key)), -1);
          for (const w of CODE.words) assert.equal(bytes.indexOf(Buffer.from(w)), -1);
        }
      }
    });

    test('same account: a frame from a second resource is a third participant; an oversized one is refused', async () => {
      const ch = await openRendezvous(opts('offer', { nameplate: 77 }));
      const one = await rawClient(server, 'anna', PASSWORD, 'one');
      const two = await rawClient(server, 'anna', PASSWORD, 'two');
      try {
        await one.client.send(xml('presence', {}, xml('priority', {}, '-1')));
        // The offer's full JID, from its presence marker.
        const offerer = await waitFor(
          () =>
            one.received.find((st) => st.name === 'presence' && st.getChild('offer', NS_PAIR))?.attrs.from as
              string | undefined,
          { what: "the offer's presence" },
        );
        const frame = (to: string, b64: string) =>
          xml('message', { to, type: 'normal' }, xml('pair', { xmlns: NS_PAIR }, b64));
        await one.client.send(frame(offerer, Buffer.from('hello').toString('base64')));
        assert.equal(Buffer.from(await ch.receive(10_000)).toString(), 'hello');
        await two.client.send(frame(offerer, Buffer.from('me too').toString('base64')));
        await assert.rejects(
          ch.receive(10_000),
          (e: unknown) => e instanceof ChannelError && e.failure === 'crowded',
        );
      } finally {
        await ch.close();
      }
      const ch2 = await openRendezvous(opts('offer', { nameplate: 78 }));
      try {
        const offerer = await waitFor(
          () =>
            one.received.find(
              (st) => st.name === 'presence' && st.getChild('offer', NS_PAIR)?.attrs.nameplate === '78',
            )?.attrs.from as string | undefined,
          { what: "the second offer's presence" },
        );
        const big = Buffer.alloc(PAIR_MESSAGE_MAX + 1, 7).toString('base64');
        await one.client.send(
          xml('message', { to: offerer, type: 'normal' }, xml('pair', { xmlns: NS_PAIR }, big)),
        );
        await assert.rejects(
          ch2.receive(10_000),
          (e: unknown) => e instanceof ChannelError && e.failure === 'oversized',
        );
      } finally {
        await ch2.close();
        await one.stop();
        await two.stop();
      }
    });
  });
}
