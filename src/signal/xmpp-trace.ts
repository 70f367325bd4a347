// What the debug log shows of a stanza: a redacted copy, built only when stanza tracing is on.
// Pure: the original stanza is never touched. SASL payloads are hidden, signal MACs removed, the
// room password (in a join presence or the room's configuration form) replaced.
import { xml, type XmlElement } from '@xmpp/client';
import { hideSensitive } from '@xmpp/debug';
import { scrub } from '../core/log.js';
import { SIGNAL_NS } from './codec.js';

/** 4 KiB: enough to debug any real signal; a 1 MB junk stanza must not become a 1 MB log line. */
const MAX_TRACE_CHARS = 4096;

function cloneElement(el: XmlElement): XmlElement {
  return xml(
    el.name,
    { ...el.attrs },
    ...el.children.map((c) => (typeof c === 'string' ? c : cloneElement(c))),
  );
}

/**
 * Stanza text for the debug log: SASL payloads hidden, signal MACs removed, the room password
 * (in a join presence or the room's configuration form) replaced, scrubbed, bounded.
 */
export function redactForLog(el: XmlElement): string {
  const copy = hideSensitive(cloneElement(el));
  const strip = (e: XmlElement): void => {
    if (e.is('signal', SIGNAL_NS))
      e.children = e.children.filter((c) => typeof c === 'string' || c.name !== 'mac');
    if (e.name === 'password' || (e.name === 'field' && e.attrs.var === 'muc#roomconfig_roomsecret')) {
      e.children = e.name === 'field' ? [xml('value', {}, '[redacted]')] : ['[redacted]'];
      return;
    }
    for (const c of e.children) if (typeof c !== 'string') strip(c);
  };
  strip(copy);
  return scrub(copy.toString()).slice(0, MAX_TRACE_CHARS);
}
