import { describe, expect, it } from "vitest";
import { forEachFormField, formUrlDecode, parseTokenForm } from "../../src/oauth/form";

/** The URL standard's form parser, as the runtime implements it (the leading `&` keeps a leading `?`). */
function standardFields(body: string): [string, string][] {
  const fields: [string, string][] = [];
  new URLSearchParams(`&${body}`).forEach((value, name) => {
    fields.push([name, value]);
  });
  return fields;
}

function ourFields(body: string): [string, string][] | false {
  const fields: [string, string][] = [];
  return forEachFormField(body, (name, value) => fields.push([name, value])) ? fields : false;
}

function formRequest(body: string | Uint8Array): Request {
  return new Request("https://auth.example.test/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
}

describe("form-url-encoded token bodies", () => {
  const WELL_FORMED = [
    "grant_type=client_credentials&scope=devices%3Aread",
    "scope=devices%3Aread+devices%3Awrite&client_id=abc",
    "a=1&&b=2&",
    "&&",
    "",
    "flag",
    "flag&b=1&c",
    "x&y&z=1=2&w&=&v=",
    "=value",
    "a=b=c",
    "sp+ace=%2B+plus%20%26%3D",
    "caf%C3%A9=%E2%82%AC%F0%9F%94%91",
    "naïve=é&emoji=🔑",
    "a=1&a=2&A=3",
    "?grant_type=client_credentials",
    "a=%25&b=100%25",
  ];

  it("reads well-formed bodies exactly as the URL standard's form parser does", () => {
    for (const body of WELL_FORMED) expect(ourFields(body), body).toEqual(standardFields(body));
  });

  it("gives up on parts that are not well-formed percent-encoded UTF-8", () => {
    for (const body of ["a=%zz", "a=%", "a=%4", "a=%FF", "%C3=1", "a=%ED%A0%80", "ok=1&a=%C0%AF"]) {
      expect(ourFields(body), body).toBe(false);
    }
  });

  it("decodes one part: + is a space, a part without % or + is returned as it is", () => {
    expect(formUrlDecode("a+b%2Bc")).toBe("a b+c");
    expect(formUrlDecode("11111111-2222-4333-8444-555555555555")).toBe("11111111-2222-4333-8444-555555555555");
    expect(formUrlDecode("%E2%82%AC")).toBe("€");
    expect(formUrlDecode("%zz")).toBeNull();
    expect(formUrlDecode("%FF")).toBeNull();
  });

  it("reads a body with malformed parts by the standard's lenient rules, and still finds a repeated parameter", async () => {
    const lenient = await parseTokenForm(formRequest("grant_type=client_credentials&scope=%zz&note=%FF&scope=x"));
    expect(Object.fromEntries(lenient.params)).toEqual({
      grant_type: "client_credentials",
      scope: "%zz",
      note: "\uFFFD",
    });
    expect(lenient.repeated).toBe("scope");

    const strict = await parseTokenForm(formRequest("grant_type=client_credentials&scope=a+b&grant_type=x&c="));
    expect(Object.fromEntries(strict.params)).toEqual({ grant_type: "client_credentials", scope: "a b" });
    expect(strict.repeated).toBe("grant_type");
  });

  it("keeps a leading ? as part of the first name, whichever way the body is read", async () => {
    expect(Object.fromEntries((await parseTokenForm(formRequest("?a=1&b=2"))).params)).toEqual({ "?a": "1", b: "2" });
    expect(Object.fromEntries((await parseTokenForm(formRequest("?a=1&b=%zz"))).params)).toEqual({
      "?a": "1",
      b: "%zz",
    });
  });

  it("refuses a body that is not UTF-8 with 400", async () => {
    const body = new Uint8Array([...new TextEncoder().encode("grant_type=client_credentials&scope="), 0xff]);
    await expect(parseTokenForm(formRequest(body))).rejects.toMatchObject({ status: 400, error: "invalid_request" });
  });
});
