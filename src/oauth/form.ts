import { strictUtf8 } from "../lib/text";
import { invalidRequest } from "./errors";

/** A client_credentials request is a few hundred bytes; a private_key_jwt assertion a few kilobytes at most. */
export const TOKEN_BODY_LIMIT = 8 * 1024;

const FORM_TYPE = "application/x-www-form-urlencoded";

/** The parameters of a token request, each at most once. */
export type TokenParams = ReadonlyMap<string, string>;

/** A readable form: its parameters (first value of each) and the first parameter sent twice, if any. */
export interface ParsedTokenForm {
  params: TokenParams;
  repeated: string | null;
}

/** The media type of a Content-Type header, without parameters, lower-cased. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Reads at most `limit` bytes of the body; null when it is longer. */
export async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array | null> {
  const length = request.headers.get("Content-Length");
  const declared = length === null ? Number.NaN : Number(length);
  if (Number.isFinite(declared)) {
    if (declared > limit) return null;
    // A declared length within the limit is the whole body (the runtime enforces it): read it in one call, without
    // asking for the body's stream, an object the runtime would build for nothing.
    return new Uint8Array(await request.arrayBuffer());
  }
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Reads a token request body (RFC 6749 §4.4.2, appendix B): form-encoded only, within the size limit, UTF-8;
 * parameters without a value are treated as omitted (§3.1). The caller refuses a repeated parameter (§3.2).
 */
export async function parseTokenForm(request: Request): Promise<ParsedTokenForm> {
  if (mediaType(request.headers.get("Content-Type")) !== FORM_TYPE) {
    throw invalidRequest("The token request must be a POST with Content-Type application/x-www-form-urlencoded.", 415);
  }
  const bytes = await readBodyWithin(request, TOKEN_BODY_LIMIT);
  if (!bytes) throw invalidRequest(`The token request body is larger than ${TOKEN_BODY_LIMIT} bytes.`, 413);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw invalidRequest("The token request body is not UTF-8.");
  }
  const params = new Map<string, string>();
  let repeated: string | null = null;
  const add = (name: string, value: string) => {
    if (value === "") return;
    if (params.has(name)) repeated ??= name;
    else params.set(name, value);
  };
  if (!forEachFormField(text, add)) {
    // A part that is not well-formed percent-encoded UTF-8: the whole form is read by the URL standard's lenient
    // rules instead (a stray % kept as it is, bytes that are not UTF-8 as U+FFFD). The leading `&` is an empty part,
    // which the parser skips; it only keeps URLSearchParams' constructor from dropping a leading `?` of the body.
    params.clear();
    repeated = null;
    new URLSearchParams(`&${text}`).forEach((value, name) => {
      add(name, value);
    });
  }
  return { params, repeated };
}

/**
 * RFC 6749 appendix B: a form-url-encoded name or value, decoded (`+` is a space); null when it is not
 * well-formed percent-encoded UTF-8. A part without `%` or `+`, as Client IDs usually are, is returned as it is.
 */
export function formUrlDecode(part: string): string | null {
  const plus = part.includes("+");
  if (!plus && !part.includes("%")) return part;
  try {
    return decodeURIComponent(plus ? part.replaceAll("+", " ") : part);
  } catch {
    return null;
  }
}

/**
 * Visits each name and value of an application/x-www-form-urlencoded body in order (the URL standard's parsing:
 * parts split on `&`, empty parts skipped, the name up to the first `=`). Returns false, possibly after visiting
 * some fields, when a part is not well-formed percent-encoded UTF-8; for every other body the fields are exactly
 * those of the URL standard's form parser (`URLSearchParams`, except that its constructor drops a leading `?`).
 * The token endpoint's bodies are parsed here rather than by `URLSearchParams`, an object of the runtime's that lives
 * until a full garbage collection (docs/performance.md).
 */
export function forEachFormField(body: string, visit: (name: string, value: string) => void): boolean {
  let start = 0;
  // The next `=` at or after `start`, found again only once a part has passed it: the whole body is scanned once.
  let nextEquals = -1;
  while (start < body.length) {
    let end = body.indexOf("&", start);
    if (end === -1) end = body.length;
    if (end > start) {
      if (nextEquals !== body.length && nextEquals < start) {
        nextEquals = body.indexOf("=", start);
        if (nextEquals === -1) nextEquals = body.length;
      }
      const split = nextEquals < end ? nextEquals : end;
      const name = formUrlDecode(body.slice(start, split));
      const value = split < end ? formUrlDecode(body.slice(split + 1, end)) : "";
      if (name === null || value === null) return false;
      visit(name, value);
    }
    start = end + 1;
  }
  return true;
}
