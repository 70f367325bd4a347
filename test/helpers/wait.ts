// Waiting on conditions, never on fixed sleeps: poll a predicate until it holds or a deadline passes,
// and fail with a description of what was awaited and the last value seen.

export interface WaitOptions {
  timeoutMs?: number;
  /** How often to re-check. Short, since checks are cheap reads of files or status. */
  intervalMs?: number;
  /** What is awaited, for the failure message; a function is asked at the deadline (it can name
   * state gathered while polling). */
  what?: string | (() => string);
}

export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      const detail = lastErr ? ` (last error: ${String(lastErr)})` : ` (last value: ${JSON.stringify(last)})`;
      const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'condition');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Asserts that a value does not change for a whole window: polls it and fails at the first change.
 * For "nothing happens" checks (an idle agent stays idle), where there is no event to wait for.
 */
export async function staysTheSame<T>(
  read: () => T | Promise<T>,
  opts: { forMs: number; intervalMs?: number; what?: string },
): Promise<T> {
  const first = JSON.stringify(await read());
  const end = Date.now() + opts.forMs;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
    const now = JSON.stringify(await read());
    if (now !== first) throw new Error(`${opts.what ?? 'value'} changed: ${first} -> ${now}`);
  }
  return JSON.parse(first) as T;
}

/** Waits until a value has stopped changing for settleMs (e.g. a log that is still being written). */
export async function settles<T>(
  read: () => T | Promise<T>,
  opts: { settleMs: number; timeoutMs?: number; what?: string },
): Promise<void> {
  let last = JSON.stringify(await read());
  let since = Date.now();
  await waitFor(
    async () => {
      const now = JSON.stringify(await read());
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= opts.settleMs;
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, what: opts.what ?? 'value to settle', intervalMs: 50 },
  );
}
