import { describe, expect, it } from "vitest";
import { CSV_HEADER, csvField, csvLine } from "../../src/audit/csv";
import { describeDetailCode } from "../../src/audit/detail-codes";
import { MINUTE } from "../../src/lib/time";
import { createSite, createUser, signIn } from "../helpers/app";
import { recordFailure, T0 } from "../helpers/security-log";

describe("CSV fields", () => {
  it("leave plain text and numbers as they are", () => {
    expect(csvField("InvalidSecret")).toBe("InvalidSecret");
    expect(csvField("2001:db8::1")).toBe("2001:db8::1");
    expect(csvField(200)).toBe("200");
    expect(csvField(null)).toBe("");
    expect(csvField("")).toBe("");
  });

  it("quote a field with a comma, quote, CR or LF and double its quotes", () => {
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("line 1\nline 2")).toBe('"line 1\nline 2"');
    expect(csvField("a\r\nb")).toBe('"a\r\nb"');
    expect(csvField('"')).toBe('""""');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","x")', '"\'=HYPERLINK(""http://evil.example"",""x"")"'],
    ["+1+2", "'+1+2"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1:A9)", "'@SUM(A1:A9)"],
    ["\t=1", "'\t=1"],
    ["\r=1", '"\'\r=1"'],
    ["=1,2", '"\'=1,2"'],
  ])("neutralise a formula: %j becomes %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it("leave a formula character inside the text alone", () => {
    expect(csvField("curl/8.0 (x=1)")).toBe("curl/8.0 (x=1)");
    expect(csvField("a-b@c")).toBe("a-b@c");
  });

  it("end each line with CRLF", () => {
    expect(csvLine(["a", 1, null, "b,c"])).toBe('a,1,,"b,c"\r\n');
  });
});

/** RFC 4180 parsing, written independently of the writer, to read the export back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

describe("CSV export of the security log", () => {
  it("exports every filtered row with escaping, formula injection neutralised, as an attachment", async () => {
    const site = await createSite({ slug: `csv-${crypto.randomUUID().slice(0, 8)}`, timeZone: "Europe/Paris" });
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(admin.email, undefined, T0);
    const clientId = crypto.randomUUID();
    await recordFailure(
      {
        siteId: site.id,
        clientId,
        registrationName: '=cmd|" /C calc"!A0',
        userAgent: 'agent "quoted", with comma\nand newline',
        ip: "198.51.100.77",
        detailCode: "IntegrationBlocked",
      },
      T0 - 5 * MINUTE,
    );
    await recordFailure({ siteId: site.id, clientId: "@evil", userAgent: "+SUM(1)", ip: "198.51.100.78" }, T0 - MINUTE);
    await recordFailure({ siteId: site.id, clientId: "-minus", userAgent: "\tTAB", ip: "198.51.100.78" }, T0 - MINUTE);
    // Another Site's row never leaks into this export.
    const other = await createSite();
    await recordFailure({ siteId: other.id, clientId, ip: "198.51.100.77" }, T0 - MINUTE);

    const res = await browser.get(`/sites/${site.slug}/settings/security-log/export.csv`, { now: T0 });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toBe(
      `attachment; filename="security-log-${site.slug}-2031-03-10.csv"`,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder().decode(bytes.slice(3));
    expect(text.endsWith("\r\n")).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(CSV_HEADER);
    expect(rows).toHaveLength(3);
    const byIp = (ip: string) => rows.filter((r) => r[11] === ip);

    const [blocked] = byIp("198.51.100.77");
    expect(blocked).toEqual([
      site.slug,
      new Date(T0 - 5 * MINUTE).toISOString(),
      new Date(T0 - 5 * MINUTE).toISOString(),
      "2031-03-10 10:25:00",
      "Europe/Paris",
      "Service authentication failed",
      "IntegrationBlocked",
      describeDetailCode("service_auth_failed", "IntegrationBlocked")?.explanation,
      describeDetailCode("service_auth_failed", "IntegrationBlocked")?.fix,
      `'=cmd|" /C calc"!A0`,
      clientId,
      "198.51.100.77",
      'agent "quoted", with comma\nand newline',
      "POST /oauth/token",
      "1",
    ]);
    // On the wire: the name is quoted (it has a quote) after its apostrophe, its quotes doubled.
    expect(text).toContain(`"'=cmd|"" /C calc""!A0"`);
    expect(text).toContain(`"agent ""quoted"", with comma\nand newline"`);
    expect(byIp("198.51.100.78").map((r) => [r[10], r[12]])).toEqual(
      expect.arrayContaining([
        ["'@evil", "'+SUM(1)"],
        ["'-minus", "'\tTAB"],
      ]),
    );
  });

  it("exports the same filter as the page, all pages of it", async () => {
    const site = await createSite();
    const admin = await createUser({ sites: [[site.id, "site_admin"]] });
    const browser = await signIn(admin.email, undefined, T0);
    for (let i = 0; i < 30; i++) {
      await recordFailure({ siteId: site.id, clientId: `c-${i}`, detailCode: "InvalidSecret" }, T0 - (i + 1) * MINUTE);
    }
    await recordFailure({ siteId: site.id, clientId: "c-x", detailCode: "FeatureDisabled" }, T0 - MINUTE);
    const base = `/sites/${site.slug}/settings/security-log/export.csv`;
    // Response.text() decodes UTF-8 and drops the byte order mark.
    const all = parseCsv(await (await browser.get(`${base}?range=24h`, { now: T0 })).text());
    expect(all).toHaveLength(32);
    const secrets = parseCsv(await (await browser.get(`${base}?code=InvalidSecret&page=2`, { now: T0 })).text());
    expect(secrets).toHaveLength(31);
    expect(secrets.slice(1).every((r) => r[6] === "InvalidSecret")).toBe(true);
    // Newest first, like the page.
    expect(secrets[1]?.[10]).toBe("c-0");
    expect(secrets[30]?.[10]).toBe("c-29");
    const disabled = parseCsv(await (await browser.get(`${base}?code=FeatureDisabled`, { now: T0 })).text());
    expect(disabled.slice(1).map((r) => r[10])).toEqual(["c-x"]);
    const empty = parseCsv(await (await browser.get(`${base}?range=1h&code=TokenReplayed`, { now: T0 })).text());
    expect(empty).toEqual([CSV_HEADER]);
  });
});
