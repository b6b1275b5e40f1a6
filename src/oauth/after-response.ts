/**
 * How long bookkeeping waits before it starts: long enough for the runtime to hand the answer over first, so work
 * that only needs to happen eventually (Last used, API denials) never competes with the answer it follows. Measured
 * locally, bookkeeping started at once made its own answer about 1.6× slower.
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
