/** Any C0 or C1 control character, DEL included. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Where to go after signing in: only a path of this origin. `next` is resolved against the origin as a browser
 * would resolve it, and kept only when it stays on the origin and both the input and the resulting path start
 * with exactly one `/` (never `//host`, `/\host`, a scheme or a control character, which browsers strip or turn
 * into another host). Anything else is `/`. The result is always safe to put in a `Location` header.
 */
export function safeNextPath(next: string | undefined, origin: string): string {
  if (!next || CONTROL.test(next) || !startsWithOneSlash(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(origin).origin) return "/";
  const path = `${url.pathname}${url.search}${url.hash}`;
  return startsWithOneSlash(path) && !CONTROL.test(path) ? path : "/";
}

const startsWithOneSlash = (path: string) => path.startsWith("/") && path[1] !== "/" && path[1] !== "\\";
