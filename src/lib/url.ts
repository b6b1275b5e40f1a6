/**
 * Where the path of an absolute URL starts (`https://host:8787/path?q` → the index of `/path`), or -1 when it has
 * none. The runtime hands request URLs over normalised, so the hot path can split them without parsing them whole.
 */
export function pathStart(url: string): number {
  return url.indexOf("/", url.indexOf("//") + 2);
}

/** The path of an absolute URL, without its query: `https://host/path?query` → `/path`. */
export function pathOf(url: string): string {
  const start = pathStart(url);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

/** The origin of an absolute URL (`scheme://host[:port]`). */
export function originOf(url: string): string {
  const start = pathStart(url);
  return start < 0 ? url : url.slice(0, start);
}
