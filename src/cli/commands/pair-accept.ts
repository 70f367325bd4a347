// `pair --accept [DIR]`: joins the repository offered on another device. It reads the code (from
// the terminal without echo, from stdin when it is not a terminal, or GIT_AUTOSYNC_PAIR_CODE; from
// argv only in the v1 form, with a warning), checks it locally before the one attempt is spent,
// finds the offer over XMPP, runs the pairing, and applies the settings (pair-apply.ts).
//   waits on: the code's input, the XMPP server, the offering device, git and the new agent.
//   produces: a configured clone whose agent runs, or one line naming what failed; exit 0 only then.
import { resolve } from 'node:path';
import { pino } from 'pino';
import { secretEnv } from '../../git/runner.js';
import { configProblem } from '../../agent/config.js';
import { findPassword } from '../../signal/credentials.js';
import { LONG_PREFIX, parseCode, PairCodeError, type PairCode } from '../../pair/code.js';
import { PairError } from '../../pair/errors.js';
import { openRendezvous } from '../../pair/rendezvous-xmpp.js';
import { DEFAULT_STEP_MS, runAccept } from '../../pair/session.js';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';
import { deviceLabel, openFailure } from './pair.js';
import { applySettings, type ApplyContext } from './pair-apply.js';

/** A code, or a long form, is far under this; it bounds what we read from stdin. */
const MAX_CODE_INPUT = 16 * 1024;
const PAIR_CODE_ENV = 'GIT_AUTOSYNC_PAIR_CODE';

/** Whether a positional argument is a code (the v1 form) rather than a directory. */
function looksLikeCode(v: string): boolean {
  return v.startsWith(LONG_PREFIX) || /^\s*[0-9]+[-\s]+[A-Za-z]/.test(v);
}

export async function accept(args: Args): Promise<number> {
  const arg = args.positional[0];
  let text: string | null = null;
  let dir: string | null = null;
  if (arg !== undefined && looksLikeCode(arg)) {
    process.stderr.write(
      `git-autosync: warning: a code on the command line is visible to other users of this machine; type it when asked, or set ${PAIR_CODE_ENV}\n`,
    );
    text = arg;
  } else if (arg !== undefined) dir = resolve(args.cwd, arg);
  text ??= secretEnv(PAIR_CODE_ENV) ?? (await readCode());
  let code: PairCode;
  try {
    code = parseCode(text);
  } catch (e) {
    if (e instanceof PairCodeError) throw new CliError('bad-input', e.message);
    throw e;
  }
  const at = code.rendezvous;
  const jidFlag = args.flags.get('--jid');
  const jid = typeof jidFlag === 'string' ? jidFlag : at?.jid;
  if (!jid)
    throw new CliError(
      'bad-input',
      at?.room
        ? 'the offer waits in a room: give your own XMPP account with --jid you@example.org'
        : 'give the XMPP account to use with --jid you@example.org (the offering account), or paste the long form of the code',
    );
  const serviceFlag = args.flags.get('--service');
  const service = typeof serviceFlag === 'string' ? serviceFlag : at?.jid ? (at.service ?? null) : null;
  for (const [k, v] of [
    ['jid', jid],
    ['service', service],
  ] as const) {
    const problem = v === null ? null : configProblem(`autosync.xmpp.${k}`, v);
    if (problem) throw new CliError('bad-input', `--${k}: ${problem}`);
  }
  const password = (await findPassword({ jid })).password;
  const label = deviceLabel(dir ?? args.cwd);
  let channel;
  try {
    channel = await openRendezvous({
      role: 'accept',
      nameplate: code.nameplate,
      jid,
      service,
      password,
      mode: at?.room ? { kind: 'room', room: at.room } : { kind: 'account' },
      // The rendezvous's own log is not the user's: every failure reaches them as one line.
      log: pino({ level: 'silent' }),
      findTimeoutMs: DEFAULT_STEP_MS,
    });
  } catch (e) {
    throw openFailure(e, 'accept');
  }
  const ctx: ApplyContext = { dir, cwd: args.cwd, jid, service };
  try {
    const r = await runAccept(channel, {
      code,
      label,
      apply: (settings, peer) => {
        process.stdout.write(
          `git-autosync: paired with "${peer.peer}" (verifier ${peer.verifier}); setting up\n`,
        );
        return applySettings(settings, ctx);
      },
    });
    const where = ctx.result;
    process.stdout.write(
      `git-autosync: ${where?.dir ?? 'the clone'} ${where?.inPlace ? 'is configured in place' : 'is a new clone'}, syncing with "${r.peer}"; its agent runs\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof PairError && e.peer)
      process.stderr.write(`git-autosync: the other device was "${e.peer}"\n`);
    throw e;
  }
}

/** The code from the terminal (not echoed) or, when stdin is not a terminal, its first line. */
async function readCode(): Promise<string> {
  if (process.stdin.isTTY) return readHidden('Pairing code (from the other device): ');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.length;
    if (size > MAX_CODE_INPUT || c.includes(0x0a)) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split('\n')[0] ?? '';
  return line.slice(0, MAX_CODE_INPUT);
}

/** Reads one line from the terminal in raw mode, echoing nothing. Ctrl-C or Ctrl-D cancels. */
function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows: a code typed the moment it appears is not echoed either.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolveLine, reject) => {
    let text = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolveLine(text);
    };
    const onData = (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003' || ch === '\u0004')
          return done(new CliError('cancelled', 'pairing cancelled; nothing was sent'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (text.length < MAX_CODE_INPUT) text += ch;
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}
