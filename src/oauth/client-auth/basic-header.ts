import { strictUtf8 } from "../../lib/text";
import { formUrlDecode } from "../form";

/** The Authorization header of a token request, parsed into a tagged result instead of throwing. */
export type BasicAuthorization =
  | { kind: "none" }
  | { kind: "not-basic"; scheme: string }
  | { kind: "malformed"; reason: string }
  | { kind: "credentials"; clientId: string; clientSecret: string };

// RFC 7617 §2: `Basic` (any case), one or more spaces, token68 (base64, padded).
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i;

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Base64 of UTF-8 text, decoded; null when it is not. ASCII, what Client IDs and secrets are, is its own UTF-8, so
 * the common case decodes without building any bytes (the token endpoint's hot path, docs/performance.md).
 */
function decodeUtf8Base64(encoded: string): string | null {
  try {
    const binary = atob(encoded);
    return isAscii(binary) ? binary : strictUtf8.decode(Uint8Array.fromBase64(encoded));
  } catch {
    return null;
  }
}

export function parseBasicAuthorization(header: string | null | undefined): BasicAuthorization {
  if (header === null || header === undefined || header.trim() === "") return { kind: "none" };
  const match = BASIC.exec(header.trim());
  if (!match) {
    const scheme = header.trim().split(/\s+/)[0] ?? "";
    if (scheme.toLowerCase() === "basic") return { kind: "malformed", reason: "The Basic credentials are not base64." };
    return { kind: "not-basic", scheme };
  }
  const encoded = match[1] ?? "";
  if (encoded.length % 4 !== 0) return { kind: "malformed", reason: "The Basic credentials are not base64." };
  const decoded = decodeUtf8Base64(encoded);
  if (decoded === null) return { kind: "malformed", reason: "The Basic credentials are not base64 of UTF-8 text." };
  const colon = decoded.indexOf(":");
  if (colon < 0)
    return { kind: "malformed", reason: "The Basic credentials have no colon between Client ID and secret." };
  // RFC 6749 §2.3.1: the Client ID and secret are form-url-encoded before Basic encoding.
  const clientId = formUrlDecode(decoded.slice(0, colon));
  const clientSecret = formUrlDecode(decoded.slice(colon + 1));
  if (clientId === null || clientSecret === null) {
    return { kind: "malformed", reason: "The Basic credentials are not form-url-encoded." };
  }
  if (clientId === "" || clientSecret === "") {
    return { kind: "malformed", reason: "The Basic credentials need both a Client ID and a Client secret." };
  }
  return { kind: "credentials", clientId, clientSecret };
}
