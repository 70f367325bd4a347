// `pair --offer`: offers this clone to a new device. It reads the repository's settings (the key,
// the shared remote, the XMPP account), opens the rendezvous (pair/rendezvous-xmpp.ts), prints the
// code and waits until a device accepted it, the code expired, or a wrong attempt burned it.
// `pair --accept` is in pair-accept.ts. Both sides show the other device's label.
//   waits on: git config, the XMPP server, the other device (pair/session.ts bounds every wait).
//   produces: the code on stdout (with --json, the JSON lines of interface.md), exit 0 once paired.
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { discover, readKey } from '../../git/repo.js';
import { Runner } from '../../git/runner.js';
import { loadConfig } from '../../agent/config.js';
import { repoId } from '../../app/peers.js';
import { findPassword } from '../../signal/credentials.js';
import { ChannelError, type PairChannel } from '../../pair/channel.js';
import {
  DEFAULT_WORDS,
  formatCode,
  formatLongCode,
  newCode,
  type RendezvousAddress,
} from '../../pair/code.js';
import { PairError } from '../../pair/errors.js';
import { settingsProblem, urlProblem, type PairSettings } from '../../pair/payload.js';
import { openRendezvous, pairRoom, type RendezvousOptions } from '../../pair/rendezvous-xmpp.js';
import { DEFAULT_OFFER_MS, DEFAULT_STEP_MS, runOffer } from '../../pair/session.js';
import { MAX_LABEL } from '../../pair/wire.js';
import { pino } from 'pino';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';

/** Nameplates are drawn from 1..999: three digits are quick to read aloud; a clash costs one retry. */
const NAMEPLATE_MAX = 999;
/** Room mode: a nameplate whose room is taken is drawn again, this many times at most. */
const NAMEPLATE_TRIES = 3;
/** The longest --timeout: a day. An offer left open longer is one forgotten. */
const MAX_TIMEOUT_S = 86_400;

export async function run(args: Args): Promise<number> {
  const offer = args.flags.has('--offer');
  const accept = args.flags.has('--accept');
  if (!offer && !accept && process.stdin.isTTY && process.stdout.isTTY)
    return (await import('./pair-wizard.js')).wizard(args, offerVerb);
  if (offer === accept)
    throw new CliError(
      'bad-usage',
      "say which side this is: 'git autosync pair --offer' on the device that has the repository, 'git autosync pair --accept DIR' on the new one",
    );
  if (accept) return (await import('./pair-accept.js')).accept(args);
  if (args.positional.length > 0) throw new CliError('bad-usage', 'pair --offer takes no argument');
  return offerVerb(args);
}

/** This device's label, shown on the other screen: the host name, printable and bounded. */
export function deviceLabel(dir: string): string {
  const raw = `${hostname()} ${basename(dir)}`.replace(/[^\x20-\x7e]/g, '?').trim();
  return (raw || 'device').slice(0, MAX_LABEL);
}

/** A channel failure while opening the rendezvous, as the pairing error the user sees. */
export function openFailure(e: unknown, role: 'offer' | 'accept'): unknown {
  if (!(e instanceof ChannelError)) return e;
  switch (e.failure) {
    case 'login':
      return new PairError('login', e.message);
    case 'timeout':
      return new PairError(role === 'accept' ? 'no-offer' : 'timeout', e.message);
    case 'crowded':
      return new PairError('crowded', e.message);
    default:
      return new PairError('unreachable', e.message);
  }
}

function timeoutOf(args: Args): number {
  const v = args.flags.get('--timeout');
  if (v === undefined) return DEFAULT_OFFER_MS;
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_TIMEOUT_S))
    throw new CliError(
      'bad-input',
      `--timeout: give the seconds the code stays valid, 1 to ${MAX_TIMEOUT_S}`,
    );
  return n * 1000;
}

async function sharedRemote(runner: Runner, flag: string | true | undefined): Promise<string> {
  const remotes = (await runner.git(['remote'])).stdout.split('\n').filter(Boolean);
  if (typeof flag === 'string') {
    if (!remotes.includes(flag))
      throw new CliError('bad-input', `--remote: this clone has no remote ${flag}`);
    return flag;
  }
  if (remotes.includes('origin')) return 'origin';
  if (remotes.length === 1) return remotes[0]!;
  throw new CliError(
    'bad-input',
    remotes.length === 0
      ? 'this clone has no remote: a new device clones from a shared remote; add one (git remote add), then pair'
      : `this clone has several remotes (${remotes.join(', ')}); say which one the new device clones from with --remote R`,
  );
}

/** The settings this clone offers, read from git; refused here when a receiver would refuse them. */
async function offeredSettings(args: Args) {
  const info = await discover(args.cwd);
  const runner = new Runner(info.workTree);
  const config = await loadConfig(runner, info);
  const jid = config.xmpp.jid;
  if (!jid)
    throw new CliError(
      'bad-input',
      "pairing runs over XMPP and this clone has no account; run 'git autosync init --jid you@example.org' first",
    );
  const key = readKey(config.keyFile);
  const remote = await sharedRemote(runner, args.flags.get('--remote'));
  const urls = (await runner.git(['remote', 'get-url', '--all', remote])).stdout.split('\n').filter(Boolean);
  const usable = urls.filter((u) => !urlProblem(u));
  const rootList = (await runner.git(['rev-list', '--max-parents=0', 'HEAD'])).stdout
    .split('\n')
    .filter(Boolean);
  const settings: PairSettings = {
    repo: {
      id: repoId(config, key),
      name: safeName(basename(info.workTree)),
      root: rootList.sort()[0] ?? '',
    },
    remote: { name: remote, urls: usable.length ? usable : urls },
    key: key.toString('hex'),
    xmpp: config.xmpp.room
      ? { room: config.xmpp.room }
      : { jid, ...(config.xmpp.service ? { service: config.xmpp.service } : {}) },
  };
  if (info.mode === 'annex') {
    const uuid = await runner.git(['config', '--get', `remote.${remote}.annex-uuid`], { okCodes: [1] });
    // The new device's group and wanted: a client that keeps what git-annex's standard "client" keeps.
    settings.annex = { remoteUuid: uuid.stdout.trim(), group: 'client', wanted: 'standard' };
  }
  const problem = settingsProblem(settings);
  if (problem) throw new PairError('bad-settings', problem);
  const password = (await findPassword({ jid, passwordFile: config.xmpp.passwordFile })).password;
  return { info, config, settings, jid, password };
}

/** The repository's directory name as a clone name: one safe path component. */
function safeName(n: string): string {
  const s = n.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[^A-Za-z0-9_]+/, '');
  return (s || 'repository').slice(0, 100);
}

async function offerVerb(args: Args): Promise<number> {
  const json = args.flags.has('--json');
  const lifeMs = timeoutOf(args);
  const { info, config, settings, jid, password } = await offeredSettings(args);
  const label = deviceLabel(info.workTree);
  const roomDomain = config.xmpp.room ? config.xmpp.room.slice(config.xmpp.room.indexOf('@') + 1) : null;
  let channel: PairChannel | null = null;
  let nameplate = 0;
  let at: RendezvousAddress = {};
  for (let tries = 0; !channel; tries++) {
    nameplate = randomInt(1, NAMEPLATE_MAX + 1);
    const room = roomDomain ? pairRoom(nameplate, roomDomain) : null;
    const o: RendezvousOptions = {
      role: 'offer',
      nameplate,
      jid,
      service: config.xmpp.service,
      password,
      mode: room ? { kind: 'room', room } : { kind: 'account' },
      // The rendezvous's own log is not the user's: every failure reaches them as one PairError line.
      log: pino({ level: 'silent' }),
      findTimeoutMs: DEFAULT_STEP_MS,
    };
    at = room ? { room } : { jid, ...(config.xmpp.service ? { service: config.xmpp.service } : {}) };
    try {
      channel = await openRendezvous(o);
    } catch (e) {
      const crowded = e instanceof ChannelError && e.failure === 'crowded';
      if (!crowded || tries + 1 >= NAMEPLATE_TRIES) return failed(json, openFailure(e, 'offer'));
    }
  }
  const code = newCode(nameplate, Uint8Array.from(randomBytes(DEFAULT_WORDS)));
  const expiresAt = Date.now() + lifeMs;
  const short = formatCode(code);
  const long = formatLongCode(code, at);
  if (json) {
    out({ code: short, long, expires: new Date(expiresAt).toISOString() });
  } else {
    process.stdout.write(
      `git-autosync: pairing code ${short} (valid until ${new Date(expiresAt).toLocaleTimeString()}, once)\n` +
        `  on the new device: git autosync pair --accept DIR, then type the code\n` +
        `  or paste the long form: ${long}\n` +
        `  waiting for the new device...\n`,
    );
  }
  try {
    const r = await runOffer(channel, { code, label, settings, expiresAt });
    if (json) out({ paired: true, peer: r.peer });
    else
      process.stdout.write(
        `git-autosync: paired with "${r.peer}" (verifier ${r.verifier}); it is syncing now\n`,
      );
    return 0;
  } catch (e) {
    return failed(json, e);
  }
}

function out(v: unknown): void {
  process.stdout.write(JSON.stringify(v) + '\n');
}

/** A failed offer: with --json its last line, then the one error line on stderr (main prints it). */
function failed(json: boolean, e: unknown): never {
  if (json) out({ paired: false, error: e instanceof PairError ? e.failure : 'failed' });
  if (e instanceof PairError && e.peer)
    process.stderr.write(`git-autosync: the other device was "${e.peer}"\n`);
  throw e;
}
