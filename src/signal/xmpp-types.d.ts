// Minimal typings for the parts of @xmpp/client 0.14 and @xmpp/debug that the signal layer uses.
// The packages ship plain JavaScript; these declarations cover only what src/signal/ calls, so a
// typo in a method name is a compile error instead of a runtime surprise.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  type Child = XmlElement | string | number | null | undefined | false;

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<XmlElement | string>;
    parent: XmlElement | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string): string | undefined;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildElements(): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    append(...children: Child[]): XmlElement;
    toString(): string;
  }

  export interface XmlParser extends EventEmitter {
    write(data: string): void;
    end(data?: string): void;
  }

  export interface XmlFactory {
    (
      name: string,
      attrs?: Record<string, string | number | undefined> | null,
      ...children: Child[]
    ): XmlElement;
    Parser: new () => XmlParser;
  }

  export const xml: XmlFactory;

  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
    equals(other: JID): boolean;
  }

  export function jid(address: string): JID;

  export interface StreamManagement extends EventEmitter {
    enabled: boolean;
    id: string;
    /** Seconds before the library itself gives up on an unanswered <r/>; 0 disables that timer. */
    timeout: number;
    requestAckInterval: number;
  }

  /** Socket as exposed by the TCP transport (net.Socket subclass) or the TLS wrapper (inner .socket). */
  export interface XmppSocket {
    secure?: boolean;
    remoteAddress?: string;
    setNoDelay?(noDelay?: boolean): unknown;
    setKeepAlive?(enable?: boolean, initialDelay?: number): unknown;
    destroy?(): unknown;
    socket?: XmppSocket | null;
  }

  export type Authenticate = (
    credentials: { username: string; password: string },
    mechanism: string,
  ) => Promise<void>;

  export type CredentialsHandler = (
    authenticate: Authenticate,
    mechanisms: string[],
    fast: unknown,
    entity: Client,
  ) => Promise<void>;

  export interface ClientOptions {
    service?: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: CredentialsHandler;
    lang?: string;
    timeout?: number;
  }

  export interface Client extends EventEmitter {
    jid: JID | null;
    status: string;
    socket: XmppSocket | null;
    options: ClientOptions;
    timeout: number;
    reconnect: { start(): void; stop(): void };
    streamManagement: StreamManagement;
    start(): Promise<JID>;
    stop(): Promise<unknown>;
    disconnect(): Promise<unknown>;
    send(element: XmlElement): Promise<void>;
    sendMany(elements: XmlElement[]): Promise<void>;
    isSecure(): boolean;
  }

  export function client(options: ClientOptions): Client;
}

declare module '@xmpp/debug' {
  import type { XmlElement } from '@xmpp/client';
  /** Replaces SASL payloads (auth, challenge, response, success) in place. */
  export function hideSensitive(element: XmlElement): XmlElement;
}
