import { describe, expect, it } from "vitest";
import { call, createSite, createUser, formBody, ORIGIN, signIn } from "../helpers/app";

async function siteAdmin() {
  const site = await createSite();
  const user = await createUser({ sites: [[site.id, "site_admin"]] });
  return { site, user, browser: await signIn(user.email) };
}

describe("CSRF protection", () => {
  it("refuses a state change from another origin", async () => {
    const { browser } = await siteAdmin();
    const res = await browser.post("/sign-out", {}, { headers: { Origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    // The session survived.
    expect((await browser.get("/")).status).toBe(303);
    expect((await browser.get("/")).headers.get("Location")).toMatch(/^\/sites\//);
  });

  it("refuses a state change without an Origin header", async () => {
    const { browser } = await siteAdmin();
    const res = await call("/sign-out", {
      method: "POST",
      headers: { Cookie: browser.cookie, "Content-Type": "application/x-www-form-urlencoded" },
      body: formBody({ _csrf: browser.csrf }),
    });
    expect(res.status).toBe(403);
  });

  it("refuses a missing or wrong CSRF token", async () => {
    const { browser } = await siteAdmin();
    const missing = await call("/sign-out", {
      method: "POST",
      headers: { Cookie: browser.cookie, Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain("The form has expired");
    const wrong = await browser.post("/sign-out", { _csrf: "x".repeat(43) });
    expect(wrong.status).toBe(403);
  });

  it("accepts the token as the X-CSRF-Token header (htmx requests)", async () => {
    const { browser } = await siteAdmin();
    const res = await call("/sign-out", {
      method: "POST",
      headers: {
        Cookie: browser.cookie,
        Origin: ORIGIN,
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRF-Token": browser.csrf,
        "HX-Request": "true",
      },
      body: "",
    });
    expect(res.status).toBe(303);
  });

  it("refuses odd content types for form posts", async () => {
    const { browser } = await siteAdmin();
    for (const type of ["application/json", "text/plain", "text/xml"]) {
      const res = await call("/sign-out", {
        method: "POST",
        headers: { Cookie: browser.cookie, Origin: ORIGIN, "Content-Type": type, "X-CSRF-Token": browser.csrf },
        body: type === "application/json" ? "{}" : "x",
      });
      expect(res.status, type).toBe(415);
    }
    const signInJson = await call("/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/json" },
      body: JSON.stringify({ email: "a@b.c", password: "x" }),
    });
    expect(signInJson.status).toBe(415);
  });

  it("refuses oversized form bodies", async () => {
    const res = await call("/sign-in", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/x-www-form-urlencoded" },
      body: `email=a%40b.c&password=${"x".repeat(70 * 1024)}`,
    });
    expect(res.status).toBe(413);
  });

  it("never changes state on GET", async () => {
    const { browser } = await siteAdmin();
    expect((await browser.get("/sign-out")).status).toBe(404);
    expect((await browser.get("/")).status).toBe(303);
  });
});

describe("security headers", () => {
  it("are on every page, including errors and the sign-in page", async () => {
    for (const path of ["/sign-in", "/no-such-page"]) {
      const res = await call(path);
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      expect(csp, path).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("Referrer-Policy")).toBe("same-origin");
    }
  });

  it("pages carry no inline script and load htmx from this Worker with a long cache lifetime", async () => {
    const html = await (await call("/sign-in")).text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toContain("cdn");
    const htmxPath = /<script src="(\/static\/htmx-4\.[^"]+\.min\.js)"/.exec(html)?.[1];
    expect(htmxPath).toBeDefined();
    const js = await call(htmxPath ?? "");
    expect(js.status).toBe(200);
    expect(js.headers.get("Content-Type")).toContain("javascript");
    expect(js.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toContain("htmx");
    expect((await call("/static/htmx-0.0.0-deadbeef.min.js")).status).toBe(404);
  });

  it("have a favicon, served by this Worker, also where browsers ask for /favicon.ico", async () => {
    const html = await (await call("/sign-in")).text();
    const icon = /<link rel="icon" type="image\/svg\+xml" href="(\/static\/icon-[0-9a-f]{8}\.svg)"/.exec(html)?.[1];
    expect(icon).toBeDefined();
    const svg = await call(icon ?? "");
    expect(svg.status).toBe(200);
    expect(svg.headers.get("Content-Type")).toBe("image/svg+xml");
    expect(await svg.text()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const legacy = await call("/favicon.ico");
    expect(legacy.status).toBe(301);
    expect(legacy.headers.get("Location")).toBe(icon);
  });
});

describe("admin answers are never cached", () => {
  it("mark every admin page, fragment, error, redirect and download private, no-store and keyed on htmx's headers", async () => {
    const site = await createSite();
    const root = await signIn((await createUser({ global: true })).email);
    const grid = `/sites/${site.slug}/settings/iam/app-registrations`;
    const answers = [
      await call("/sign-in"),
      await call(grid),
      await root.get(grid),
      await root.get(grid, { headers: { "HX-Request": "true" } }),
      await root.get(`${grid}/new`),
      await root.get(`${grid}/999999999`),
      await root.get(`/sites/${site.slug}/settings/notifications`),
      await root.get(`/sites/${site.slug}/settings/security-log`),
      await root.get(`/sites/${site.slug}/settings/security-log/export.csv`),
      await root.get("/admin/users"),
      await root.get("/admin/sites"),
      await root.get("/account/password"),
      await root.post("/sign-out", {}),
    ];
    for (const res of answers) {
      const what = `${res.status} ${res.url}`;
      expect(res.headers.get("Cache-Control"), what).toBe("private, no-store");
      const vary = (res.headers.get("Vary") ?? "").split(",").map((v) => v.trim());
      expect(vary, what).toEqual(
        expect.arrayContaining(["HX-Request", "HX-Request-Type", "HX-History-Restore-Request"]),
      );
    }
    expect(answers.map((r) => r.status)).toEqual([200, 303, 200, 200, 200, 404, 200, 200, 200, 200, 200, 200, 303]);
  });

  it("leave the static assets cacheable", async () => {
    const html = await (await call("/sign-in")).text();
    const css = /<link[^>]+href="(\/static\/[^"]+\.css)"/.exec(html)?.[1];
    expect(css).toBeDefined();
    expect((await call(css ?? "")).headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
  });
});

describe("role checks", () => {
  const adminOnly = (slug: string) => [
    `/sites/${slug}/settings/iam`,
    `/sites/${slug}/settings/iam/app-registrations`,
    `/sites/${slug}/settings/notifications`,
    `/sites/${slug}/settings/security-log`,
  ];
  const memberPages = (slug: string) => [`/sites/${slug}`, `/sites/${slug}/settings`];
  const globalPages = ["/admin/registrations", "/admin/sites", "/admin/users"];

  it("let a Site Administrator into the IAM pages of their Site only", async () => {
    const { site, browser } = await siteAdmin();
    const other = await createSite();
    for (const path of [...adminOnly(site.slug), ...memberPages(site.slug)]) {
      expect((await browser.get(path)).status, path).toBe(200);
    }
    for (const path of [...adminOnly(other.slug), ...memberPages(other.slug)]) {
      expect((await browser.get(path)).status, path).toBe(404);
    }
    for (const path of globalPages) expect((await browser.get(path)).status, path).toBe(403);
  });

  it("give a Site User 403 on IAM pages and 200 on the Admin Center", async () => {
    const site = await createSite();
    const user = await createUser({ sites: [[site.id, "site_user"]] });
    const browser = await signIn(user.email);
    for (const path of adminOnly(site.slug)) {
      const res = await browser.get(path);
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain("Only Site Administrators can open this page");
    }
    for (const path of memberPages(site.slug)) expect((await browser.get(path)).status, path).toBe(200);
    for (const path of globalPages) expect((await browser.get(path)).status, path).toBe(403);
  });

  it("let a Global Administrator into every Site and the global pages", async () => {
    const site = await createSite();
    const root = await createUser({ global: true });
    const browser = await signIn(root.email);
    for (const path of [...adminOnly(site.slug), ...memberPages(site.slug), ...globalPages]) {
      expect((await browser.get(path)).status, path).toBe(200);
    }
  });

  it("send anonymous visitors to sign in and refuse anonymous htmx requests", async () => {
    const site = await createSite();
    for (const path of [...adminOnly(site.slug), ...memberPages(site.slug), ...globalPages]) {
      const res = await call(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("Location")).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
    }
    const htmx = await call(`/sites/${site.slug}/settings/iam/app-registrations`, {
      headers: { "HX-Request": "true" },
    });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get("HX-Redirect")).toMatch(/^\/sign-in\?next=/);
  });

  it("show a user in several Sites a switcher listing exactly their Sites", async () => {
    const a = await createSite({ name: "Alpha Works" });
    const b = await createSite({ name: "Beta Works" });
    await createSite({ name: "Gamma Works" });
    const user = await createUser({
      sites: [
        [a.id, "site_admin"],
        [b.id, "site_user"],
      ],
    });
    const browser = await signIn(user.email);
    const html = await (await browser.get(`/sites/${a.slug}`)).text();
    expect(html).toContain('aria-label="Sites"');
    expect(html).toContain("Alpha Works");
    expect(html).toContain("Beta Works");
    expect(html).not.toContain("Gamma Works");
  });
});
