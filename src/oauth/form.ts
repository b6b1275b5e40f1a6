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
  if (Number.isFinite(declared) && declared > limit) return null;
  if (!request.body) return new Uint8Array();
  // A declared length within the limit is the whole body (the runtime enforces it): read it in one call.
  if (Number.isFinite(declared)) return new Uint8Array(await request.arrayBuffer());
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
  // forEach rather than the iterator: no entry array per parameter on the hot path.
  new URLSearchParams(text).forEach((value, name) => {
    if (value === "") return;
    if (params.has(name)) repeated ??= name;
    else params.set(name, value);
  });
  return { params, repeated };
}
