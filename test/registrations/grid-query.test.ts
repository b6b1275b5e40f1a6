import { describe, expect, it } from "vitest";
import {
  BUILT_IN_VIEWS,
  DEFAULT_QUERY,
  matchingView,
  parseGridQuery,
  parseGridSettings,
  parseQueryString,
  serializeGridQuery,
} from "../../src/registrations/grid-query";

describe("the grid's query string", () => {
  it("writes one canonical form: fixed order, no defaults, blank fields dropped", () => {
    const parsed = parseGridQuery("site", {
      page: "2",
      sort: "name",
      dir: "asc",
      q: "",
      never_used: "1",
      state: "expired",
      enabled: "",
      cols: "expires,name,client_id",
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(serializeGridQuery(parsed.query)).toBe("state=expired&never_used=1&cols=name%2Cclient_id%2Cexpires&page=2");
    expect(serializeGridQuery(parsed.query, { page: false })).toBe(
      "state=expired&never_used=1&cols=name%2Cclient_id%2Cexpires",
    );
    expect(serializeGridQuery(DEFAULT_QUERY)).toBe("");
  });

  it("round-trips every state it writes", () => {
    const qs = "q=back+up&state=expiring_7&enabled=yes&used_before=2031-01-01&sort=last_used&dir=desc&page=3";
    const parsed = parseQueryString("site", qs);
    expect(parsed.ok && serializeGridQuery(parsed.query)).toBe(qs);
  });

  it("trims the name filter and treats a blank one as absent", () => {
    const parsed = parseGridQuery("site", { q: "  nightly  " });
    expect(parsed.ok && parsed.query.q).toBe("nightly");
    const blank = parseGridQuery("site", { q: "   " });
    expect(blank.ok && blank.query.q).toBeUndefined();
  });

  it("keeps the Site filter and column to the all-Sites grid", () => {
    expect(parseGridQuery("site", { site: "main" })).toEqual({ ok: true, query: DEFAULT_QUERY });
    const all = parseGridQuery("all", { site: "main", sort: "site" });
    expect(all.ok && all.query).toMatchObject({ site: "main", sort: "site" });
    expect(parseGridQuery("site", { sort: "site" }).ok).toBe(false);
  });

  it("names each bad parameter once", () => {
    const parsed = parseGridQuery("site", { state: ["expired", "disabled"], page: "-1", never_used: "yes" });
    expect(parsed).toEqual({
      ok: false,
      problems: [
        "state must be one of active, expiring_30, expiring_7, expired, disabled.",
        "never_used must be 1.",
        "page must be a whole number.",
      ],
    });
  });
});

describe("views", () => {
  it("recognises a built-in view whatever page is shown", () => {
    const expired = parseQueryString("site", "state=expired&page=4");
    expect(expired.ok && matchingView(BUILT_IN_VIEWS, expired.query)?.name).toBe("Expired");
    expect(matchingView(BUILT_IN_VIEWS, DEFAULT_QUERY)?.name).toBe("Default View");
    const sorted = parseQueryString("site", "state=expired&sort=created");
    expect(sorted.ok && matchingView(BUILT_IN_VIEWS, sorted.query)).toBeUndefined();
  });

  it("falls back to default settings when stored ones cannot be read", () => {
    expect(parseGridSettings("site", "not json")).toEqual({
      columns: ["name", "client_id", "created", "enabled", "last_used", "expires", "state"],
      pageSize: 25,
    });
    expect(parseGridSettings("site", JSON.stringify({ columns: ["expires"], pageSize: 1000 })).pageSize).toBe(25);
    expect(parseGridSettings("site", JSON.stringify({ columns: ["expires", "site"], pageSize: 10 }))).toEqual({
      columns: ["name", "expires"],
      pageSize: 10,
    });
  });
});
