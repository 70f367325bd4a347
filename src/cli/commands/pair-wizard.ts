// `pair` with neither --offer nor --accept, in a terminal: asks which side this device is, and for a
// new device where the clone goes and which XMPP account it uses, then runs that side. The code
// itself is read by pair-accept.ts, without echo.
//   waits on: the user's answers (Ctrl-C or Ctrl-D cancels, nothing done).
//   produces: the chosen verb's outcome.
import { createInterface } from 'node:readline/promises';
import type { Args } from '../args.js';
import { CliError } from '../exit-codes.js';

export async function wizard(args: Args, offer: (a: Args) => Promise<number>): Promise<number> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    historySize: 0,
  });
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(new CliError('cancelled', 'pairing cancelled; nothing was done'));
    rl.on('SIGINT', stop);
    rl.on('close', stop);
  });
  aborted.catch(() => undefined);
  const ask = (q: string) => Promise.race([rl.question(q), aborted]).then((a) => a.trim());
  let next: () => Promise<number>;
  try {
    const side = (
      await ask(
        'Offer the repository here to a new device (o), or join one offered on another device (j)? [o/j] ',
      )
    ).toLowerCase();
    if (side === 'o' || side === 'offer') next = () => offer(args);
    else if (side === 'j' || side === 'join') {
      const dir = await ask(
        'Directory for the new clone (empty: here if this is that repository, else ./NAME): ',
      );
      const flags = new Map(args.flags);
      flags.set('--accept', true);
      if (typeof flags.get('--jid') !== 'string') {
        const jid = await ask(
          'Your XMPP account, like you@example.org (empty: the one in a pasted long code): ',
        );
        if (jid) flags.set('--jid', jid);
      }
      const { accept } = await import('./pair-accept.js');
      next = () => accept({ ...args, flags, positional: dir ? [dir] : [] });
    } else throw new CliError('bad-input', 'answer o to offer this repository, or j to join one');
  } finally {
    rl.close();
  }
  return next();
}
