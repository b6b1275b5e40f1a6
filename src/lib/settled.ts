/**
 * A promise whose value, once it is fulfilled, can be read without awaiting it: for what is imported once per isolate
 * (keys) and then used on every request, where awaiting even a settled promise costs a turn of the microtask queue and
 * its allocations (docs/performance.md). Read it as `entry.value ?? (await entry.promise)`.
 */
export interface Settling<T> {
  readonly promise: Promise<T>;
  /** The value, once the promise is fulfilled. */
  readonly value: T | undefined;
}

/** Tracks `promise`; `onRejected` runs if it rejects (to forget a cached entry, say). */
export function settling<T>(promise: Promise<T>, onRejected: () => void): Settling<T> {
  const entry: { promise: Promise<T>; value: T | undefined } = { promise, value: undefined };
  promise.then((value) => {
    entry.value = value;
  }, onRejected);
  return entry;
}
