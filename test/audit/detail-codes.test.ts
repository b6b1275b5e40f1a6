import { describe, expect, it } from "vitest";
import { DETAIL_CODES, describeDetailCode } from "../../src/audit/detail-codes";
import { SIGN_IN_MAX_FAILURES_PER_ACCOUNT } from "../../src/auth/throttle";
import type { SecurityEventType } from "../../src/db/schema";
import { MINUTE } from "../../src/lib/time";
import { createUser, PASSWORD, signIn, unique } from "../helpers/app";
import { escapeHtml, postSignIn, T0, tableRows } from "../helpers/security-log";

/**
 * The §8 table, as the specification states it, plus FeatureDisabled under API access denied: the REST API also
 * refuses the calls of a Site whose REST API is off (§2), which §8 lists for the token endpoint only; and
 * IntegrationBlocked under API access denied: the management API refuses a token whose registration was disabled,
 * expired or deleted since it was issued.
 */
const SPEC: Record<SecurityEventType, string[]> = {
  service_auth_failed: [
    "InvalidIntegration",
    "InvalidSecret",
    "SecretRevoked",
    "SecretExpired",
    "IntegrationBlocked",
    "IntegrationExpired",
    "FeatureDisabled",
    "ScopeMismatched",
    "UnsupportedGrantType",
    "MalformedRequest",
    "TooManyFailures",
    "MissingKeyId",
    "MissingKey",
    "UnsupportedAlgo",
    "InvalidSignature",
    "InvalidIssuer",
    "ClientIdMismatch",
    "TokenNotAcceptable",
    "TokenExpired",
    "TokenValidityTooBroad",
    "TokenReplayed",
    "InvalidTokenType",
  ],
  api_access_denied: [
    "AccessTokenExpired",
    "InvalidSignature",
    "InvalidIssuer",
    "InvalidTokenType",
    "InvalidScope",
    "ScopeMismatched",
    "FeatureDisabled",
    "IntegrationBlocked",
    "SiteMismatch",
  ],
  admin_sign_in_failed: ["InvalidCredentials", "UserDisabled", "TooManyFailures"],
};

describe("the detail-code catalog", () => {
  it("has every §8 code under its event, and nothing else", () => {
    for (const [event, codes] of Object.entries(SPEC)) {
      expect(DETAIL_CODES.filter((d) => d.event === event).map((d) => d.code)).toEqual(codes);
    }
    expect(DETAIL_CODES).toHaveLength(Object.values(SPEC).flat().length);
  });

  it("explains each code and says how to fix it, differently where a code means different things per event", () => {
    for (const d of DETAIL_CODES) {
      expect(d.explanation.length, d.code).toBeGreaterThan(20);
      expect(d.fix.length, d.code).toBeGreaterThan(20);
      expect(d.answer, d.code).toMatch(/^(400|401|403|429)/);
    }
    expect(describeDetailCode("service_auth_failed", "IntegrationExpired")?.fix).toContain(
      "push the Expiration date forward",
    );
    expect(describeDetailCode("api_access_denied", "InvalidSignature")?.explanation).not.toBe(
      describeDetailCode("service_auth_failed", "InvalidSignature")?.explanation,
    );
    expect(describeDetailCode("admin_sign_in_failed", "TooManyFailures")?.explanation).toContain(
      `${SIGN_IN_MAX_FAILURES_PER_ACCOUNT} for the account`,
    );
    expect(describeDetailCode("admin_sign_in_failed", "InvalidSecret")).toBeNull();
  });
});

describe("admin sign-in detail codes, produced by their real causes", () => {
  async function globalLogFor(email: string, now: number) {
    const root = await signIn((await createUser({ global: true })).email, undefined, now);
    const res = await root.get(`/admin/security-log?client=${encodeURIComponent(email)}&event=admin_sign_in_failed`, {
      now,
    });
    expect(res.status).toBe(200);
    return res.text();
  }

  function expectExplained(html: string, code: string) {
    const info = describeDetailCode("admin_sign_in_failed", code);
    expect(html).toContain(`<summary title="${escapeHtml(info?.explanation ?? "")}"><code>${code}</code></summary>`);
    expect(html).toContain(escapeHtml(info?.fix ?? "?"));
  }

  it("InvalidCredentials: a wrong password", async () => {
    const user = await createUser();
    const ip = "192.0.2.61";
    expect((await postSignIn(user.email, "not it", ip, T0, "Firefox/140")).status).toBe(401);
    const html = await globalLogFor(user.email, T0 + MINUTE);
    const [row, ...rest] = tableRows(html);
    expect(rest).toHaveLength(0);
    expect(row).toContain("No Site");
    expect(row).toContain("Admin sign-in failed");
    expect(row).toContain(`Account ${user.email}`);
    expect(row).toContain("InvalidCredentials");
    expect(row).toContain(ip);
    expect(row).toContain("Firefox/140");
    expect(row).toContain("POST /sign-in");
    expectExplained(html, "InvalidCredentials");
  });

  it("InvalidCredentials: an unknown email", async () => {
    const email = `${unique("ghost")}@example.test`;
    expect((await postSignIn(email, "anything", "192.0.2.62", T0)).status).toBe(401);
    const html = await globalLogFor(email, T0 + MINUTE);
    expect(tableRows(html)[0]).toContain("InvalidCredentials");
  });

  it("UserDisabled: the right password for a disabled account", async () => {
    const user = await createUser({ disabled: true });
    expect((await postSignIn(user.email, PASSWORD, "192.0.2.63", T0)).status).toBe(401);
    const html = await globalLogFor(user.email, T0 + MINUTE);
    expect(tableRows(html)[0]).toContain("UserDisabled");
    expectExplained(html, "UserDisabled");
  });

  it("TooManyFailures: a wrong password after the account's failure budget is spent", async () => {
    const user = await createUser();
    for (let i = 0; i < SIGN_IN_MAX_FAILURES_PER_ACCOUNT; i++) {
      await postSignIn(user.email, "nope", `192.0.2.${70 + i}`, T0);
    }
    expect((await postSignIn(user.email, "still wrong", "192.0.2.80", T0)).status).toBe(429);
    const html = await globalLogFor(user.email, T0 + MINUTE);
    const throttled = tableRows(html).filter((r) => r.includes("TooManyFailures"));
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toContain("192.0.2.80");
    expectExplained(html, "TooManyFailures");
  });
});
