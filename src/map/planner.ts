// Flood sync, the first pass of content sync, as a pure function: given what every repository has and
// wants, say what this repository should upload, download and drop now. No I/O here, so every rule is
// a table test (test/unit/map/planner.test.ts).
//
// Rules:
//  - A key goes to every reachable remote that wants it and lacks it (uploads, only from content that
//    is here), except a remote whose own agent pulls from us: the side that wants a key fetches it,
//    so between two agents exactly one of them starts each transfer.
//  - A key this repository wants and lacks comes from the cheapest reachable remote that has it
//    (annex-cost, then name for a stable order); the other holders are kept as fallbacks.
//  - "Wants" is git-annex preferred content, evaluated by git-annex (the inventory asks it); the
//    planner only receives the answer. A repository in the `transfer` group is special: it is the cloud
//    bridge between LANs and wants a key only while some repository that wants the key lacks it and
//    cannot be served directly from here. Once every repository that wants the key has it, the bridge
//    copy is dropped. The drop itself is done by `git annex drop`, which enforces numcopies and
//    required content, so a plan can never lose the last copy.
//  - Content here that this repository explicitly does not want is dropped with `drop --auto`
//    (again numcopies decides). A repository without an expression keeps everything.

export interface RepoInfo {
  uuid: string;
  /** The git remote name when this repository is a remote of ours; absent for here and for
   * repositories we only know from the git-annex branch (e.g. a laptop on another LAN). */
  remote?: string;
  here: boolean;
  /** annex-cost; lower is preferred. */
  cost: number;
  /** Configured, not annex-ignore'd, and not known to be down. Always true for here. */
  reachable: boolean;
  /** In the `transfer` group: a bridge that holds content only while someone still needs it. */
  transfer: boolean;
  /** Has an explicit preferred-content expression (otherwise it keeps whatever it has). */
  explicitWanted: boolean;
  /** annex-readonly: can be read from, never written to or dropped from. */
  readonly?: boolean;
  /**
   * Runs its own git-autosync agent that can reach us, so it downloads what it wants by itself. We
   * do not upload to it: two agents would otherwise move every key twice, once each way, at the
   * same moment (measured: ~1,000 of 1,000 keys in a burst), and each side's transfer locks only
   * see its own half.
   */
  pulls?: boolean;
}

export interface KeyInfo {
  key: string;
  /** One work-tree file using the key (drops by file respect .gitattributes numcopies). */
  file: string;
  size: number | null;
  /** UUIDs of repositories that have the content. */
  present: readonly string[];
  /** UUIDs of non-transfer repositories whose preferred content matches this key's file. */
  wantedBy: readonly string[];
}

export interface PlannedDownload {
  key: string;
  /** Cheapest reachable holder. */
  remote: string;
  /** Further holders, cheapest first, to try if `remote` fails. */
  fallbacks: string[];
  file: string;
  size: number | null;
}

export interface PlannedUpload {
  key: string;
  remote: string;
  file: string;
  size: number | null;
}

export interface PlannedDrop {
  key: string;
  file: string;
  /** Remote to drop from; null drops the local copy. */
  remote: string | null;
  reason: 'bridge-done' | 'unwanted-here';
}

export interface Plan {
  downloads: PlannedDownload[];
  uploads: PlannedUpload[];
  drops: PlannedDrop[];
}

export function plan(repos: readonly RepoInfo[], keys: readonly KeyInfo[]): Plan {
  const out: Plan = { downloads: [], uploads: [], drops: [] };
  const here = repos.find((r) => r.here);
  if (!here) return out;
  const byUuid = new Map(repos.map((r) => [r.uuid, r]));
  const remotes = repos
    .filter((r) => !r.here && r.remote !== undefined && r.reachable)
    .sort((a, b) => a.cost - b.cost || (a.remote ?? '').localeCompare(b.remote ?? ''));
  const directlyServed = new Set(remotes.map((r) => r.uuid));

  for (const k of keys) {
    const present = new Set(k.present);
    // Only non-transfer repositories that exist (not dead/unknown) count as wanting.
    const wanters = k.wantedBy.filter((u) => {
      const r = byUuid.get(u);
      return r !== undefined && !r.transfer;
    });
    const lacking = wanters.filter((u) => !present.has(u));
    // The bridge is needed for a key while a repository wants it, lacks it, and we cannot hand it
    // over ourselves (it is neither us nor one of our reachable remotes).
    const needsBridge = lacking.some((u) => u !== here.uuid && !directlyServed.has(u));
    const wants = (r: RepoInfo): boolean => (r.transfer ? needsBridge : wanters.includes(r.uuid));
    const haveHere = present.has(here.uuid);

    if (!haveHere && wants(here)) {
      const holders = remotes.filter((r) => present.has(r.uuid));
      const [first, ...rest] = holders;
      if (first?.remote !== undefined) {
        out.downloads.push({
          key: k.key,
          remote: first.remote,
          fallbacks: rest.map((r) => r.remote as string),
          file: k.file,
          size: k.size,
        });
      }
    }

    if (haveHere) {
      for (const r of remotes) {
        if (!r.readonly && !r.pulls && !present.has(r.uuid) && wants(r)) {
          out.uploads.push({ key: k.key, remote: r.remote as string, file: k.file, size: k.size });
        }
      }
    }

    // Bridge copies whose job is done. `wanters.length > 0`: a key nobody wants is left alone
    // rather than treated as "everyone has it".
    if (wanters.length > 0 && lacking.length === 0) {
      for (const r of remotes) {
        if (r.transfer && !r.readonly && present.has(r.uuid)) {
          out.drops.push({ key: k.key, file: k.file, remote: r.remote as string, reason: 'bridge-done' });
        }
      }
      if (here.transfer && haveHere) {
        out.drops.push({ key: k.key, file: k.file, remote: null, reason: 'bridge-done' });
      }
    }
    if (!here.transfer && here.explicitWanted && haveHere && !wanters.includes(here.uuid)) {
      out.drops.push({ key: k.key, file: k.file, remote: null, reason: 'unwanted-here' });
    }
  }
  return out;
}
