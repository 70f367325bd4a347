// Waiting on conditions, never on fixed sleeps: poll a predicate until it holds or a deadline passes,
// and fail with a description of what was awaited and the last value seen.

export interface WaitOptions {
  timeoutMs?: number;
  /** How often to re-check. Short, since checks are cheap reads of files or status. */
  intervalMs?: number;
  what?: string;
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
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
