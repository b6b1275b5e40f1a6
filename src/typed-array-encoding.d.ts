/**
 * The base64 and hex methods of Uint8Array (TC39 "Uint8Array to/from base64", ES2026), which workerd provides and
 * the project's TypeScript library (ES2023) does not declare yet.
 */
interface Uint8Array<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> {
  toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
  toHex(): string;
}

interface Uint8ArrayConstructor {
  fromBase64(base64: string, options?: { alphabet?: "base64" | "base64url" }): Uint8Array<ArrayBuffer>;
  fromHex(hex: string): Uint8Array<ArrayBuffer>;
}
