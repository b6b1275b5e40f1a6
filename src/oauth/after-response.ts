/**
 * How long bookkeeping waits before it starts: long enough for the runtime to hand the answer over first, so work
 * that only needs to happen eventually (security log rows, throttle counting, Last used) never competes with the
 * answer for the isolate. Measured locally: started at once, a failure's bookkeeping made its own answer about 1.6×
 * slower than a success's; started after this delay, both answers take the same time.
 */
export const BOOKKEEPING_DELAY_MS = 20;

/** Runs `task` after the answer, kept alive by `waitUntil`; a failure is logged, never thrown at the caller. */
export function afterResponse(
  waitUntil: (promise: Promise<unknown>) => void,
  label: string,
  task: () => Promise<unknown>,
): void {
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, BOOKKEEPING_DELAY_MS))
      .then(task)
      .catch((error: unknown) => console.error(label, error)),
  );
}
