// What a remote's URL says about where the remote is: the one home of the network-URL check (the
// refs watch, the remote poll and the annex inventory all ask it).

// git's own rule (urlmatch / transport): "scheme://…" is a URL; "host:path" with no slash before the
// first colon is scp-like ssh. Everything else, and file://, is a path on this machine.
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const SCP_LIKE_RE = /^[^/]+:/;

/** A remote URL that names another machine: scheme://… other than file://, or scp-like host:path. Pure. */
export function isNetworkUrl(url: string): boolean {
  if (url.startsWith('file://')) return false;
  return SCHEME_RE.test(url) || SCP_LIKE_RE.test(url);
}
