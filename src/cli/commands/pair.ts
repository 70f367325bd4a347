// `pair`: not in this version. It says how to pair by hand, and fails (exit 1).
import { CliError } from '../exit-codes.js';

export function run(): Promise<number> {
  return Promise.reject(
    new CliError(
      'not-available',
      "pairing over XMPP is not available in this version; set autosync.xmpp.jid and copy .git/autosync/key to the other clone (see README, 'Pairing by hand')",
    ),
  );
}
