import { describe, expect, it } from "vitest";
import { fromHex, hmacBytes, hmacHex, toHex } from "../../src/lib/crypto";

/** HMAC-SHA256 the long way: a fresh key import and the runtime's TextEncoder. */
async function referenceHmac(pepper: string, value: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(pepper), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(value)));
}

describe("HMAC of client secrets", () => {
  const pepper = "crypto-test-pepper-0123456789abcdef";

  it("hashes ASCII, non-ASCII, empty and long values as UTF-8, on the first call and on later ones", async () => {
    const values = [
      "cs_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG",
      "",
      "päss wörd 🔑",
      "x".repeat(64),
      "y".repeat(65),
      `${"z".repeat(70)}é`,
    ];
    // The first calls run while the key is still being imported; the later ones use the imported key.
    const first = await Promise.all(values.map((value) => hmacHex(pepper, value)));
    const later = await Promise.all(values.map((value) => hmacHex(pepper, value)));
    const reference = await Promise.all(values.map((value) => referenceHmac(pepper, value)));
    expect(first).toEqual(reference);
    expect(later).toEqual(reference);
  });

  it("keys each pepper separately", async () => {
    const a = await hmacBytes(pepper, "secret");
    const b = await hmacBytes(`${pepper}-other`, "secret");
    expect(toHex(a)).toBe(await referenceHmac(pepper, "secret"));
    expect(toHex(b)).toBe(await referenceHmac(`${pepper}-other`, "secret"));
    expect(fromHex(toHex(a))).toEqual(a);
  });
});
