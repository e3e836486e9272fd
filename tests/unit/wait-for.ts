/**
 * Polls `predicate` every 10 ms until it returns true; rejects after `timeoutMs` with `what` in the message.
 * Errors thrown by the predicate fail at once. Generous timeouts keep tests stable on a loaded machine.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
