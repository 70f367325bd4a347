// The control client's typed failure: nobody listens on the socket. Callers branch on the class
// (or on its code, 'no-agent'), never on the socket error's text.

/** No agent runs for the repository: its control socket is missing (ENOENT) or refuses (ECONNREFUSED). */
export class NoAgentError extends Error {
  readonly code = 'no-agent';
  override name = 'NoAgentError';

  constructor(
    /** The socket that nobody answered on. */
    readonly socket: string,
    cause: unknown,
  ) {
    super('no agent is running for this repository', { cause });
  }
}

/** The socket errors that mean nothing listens there (as opposed to an agent that failed to answer). */
const NOBODY_LISTENS = new Set(['ENOENT', 'ECONNREFUSED']);

/** Whether a connect error on the control socket means that no agent runs. Pure. */
export function meansNoAgent(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && NOBODY_LISTENS.has(code);
}
