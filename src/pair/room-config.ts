// The settings of a pairing room, and which of them to submit. Servers differ in the fields their
// muc#roomconfig form has (Prosody knows muc#roomconfig_historylength, ejabberd 23.01 does not
// and refuses a whole submission with one unknown field), so the owner asks for the form first and
// submits only the wanted fields the form shows. Pure: the caller does the two iqs.

/** What the offer's room should be, as muc#roomconfig fields (XEP-0045 section 16.5.3). */
export const PAIR_ROOM_CONFIG: ReadonlyArray<readonly [string, string]> = [
  // Gone when both devices have left: nothing of a pairing outlives it on the server.
  ['muc#roomconfig_persistentroom', '0'],
  // Not listed in the service's public room directory.
  ['muc#roomconfig_publicroom', '0'],
  // The code, not a member list, decides who pairs: the other device may use another account.
  ['muc#roomconfig_membersonly', '0'],
  // A device that joins later sees none of the frames sent before it came.
  ['muc#roomconfig_historylength', '0'],
];

/**
 * The fields to submit, given the `var`s of the form the server sent; `null` (no form could be
 * read) submits every wanted field, which servers that know them all accept.
 */
export function pairRoomFields(offered: ReadonlySet<string> | null): Array<readonly [string, string]> {
  if (offered === null) return [...PAIR_ROOM_CONFIG];
  return PAIR_ROOM_CONFIG.filter(([name]) => offered.has(name));
}
