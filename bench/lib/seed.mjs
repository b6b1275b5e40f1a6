// The bench's data, written straight into the bench's own local D1 (after the project's migrations and §11 seed):
// Sites, a Site Administrator, token clients with known secrets, devices, the two grid Sites and the cron Site.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { hashPassword, LOCAL_PASSWORD } from "../../scripts/local.mjs";

const DAY = 86_400_000;

export const BENCH_ADMIN = "bench-admin@example.test";
export const SITES = {
  api: "bench",
  grid10: "bench-grid-10",
  grid10k: "bench-grid-10k",
  cron: "bench-cron",
};

const sqlText = (value) => `'${String(value).replaceAll("'", "''")}'`;

/** The stored form of a client secret: HMAC-SHA256 keyed with the pepper, hex (src/registrations/secrets.ts). */
export function hashClientSecret(pepper, secret) {
  return createHmac("sha256", pepper).update(secret).digest("hex");
}

export function generateClientSecret() {
  return `asc_${randomBytes(32).toString("base64url")}`;
}

/** YYYY-MM-DD (UTC) of an instant. */
const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const utcMidnight = (date) => Date.parse(`${date}T00:00:00Z`);

/**
 * Plans every row. `now` is the instant the cron evaluation will use; counts come from the options so the bench can
 * print what it seeded.
 */
export function planSeed({ now, pepper, tokenClients = 64, gridLarge = 10_000, gridSmall = 10, total = 100_000 }) {
  const today = utcDate(now);
  const tokenExpiry = utcDate(now + 365 * DAY);
  const clients = Array.from({ length: tokenClients }, (_, i) => ({
    name: `Bench token client ${String(i + 1).padStart(3, "0")}`,
    clientId: randomUUID(),
    clientSecret: generateClientSecret(),
  }));
  const due = Math.round(total / 100);
  const cronNotDue = total - tokenClients - gridLarge - gridSmall - due;
  if (cronNotDue < 0) throw new Error("bench seed: total is smaller than the other registrations");
  return { now, today, pepper, clients, tokenExpiry, gridLarge, gridSmall, due, cronNotDue, total };
}

/** Registrations from a recursive sequence: `n` runs 1..count; expressions may use n. */
function sequenceInsert({ count, site, clientIdPrefix, name, enabled = "1", expiryDays, createdAt, lastUsedAt }) {
  if (count <= 0) return "";
  return `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${count})
INSERT INTO app_registrations (site_id, client_id, name, description, enabled, scopes, access_token_lifetime,
  expiration_date, expires_at, created_at, updated_at, last_used_at, created_by)
SELECT (SELECT id FROM sites WHERE slug = ${sqlText(site)}),
  printf('${clientIdPrefix}-0000-4000-8000-%012d', n),
  ${name},
  '', ${enabled}, 'devices:read', 3600,
  date(:today, '+' || (${expiryDays}) || ' days'),
  CAST(strftime('%s', date(:today, '+' || (${expiryDays}) || ' days')) AS INTEGER) * 1000,
  ${createdAt}, ${createdAt}, ${lastUsedAt},
  (SELECT id FROM users WHERE email = ${sqlText(BENCH_ADMIN)})
FROM seq;`;
}

/** The SQL that writes the plan (one file, executed once by `wrangler d1 execute`). */
export function seedSql(plan) {
  const { now, today, pepper, clients, tokenExpiry } = plan;
  const statements = [];
  for (const [key, slug] of Object.entries(SITES)) {
    statements.push(
      `INSERT INTO sites (slug, name, time_zone, rest_api_enabled, max_registration_days, created_at) VALUES (${sqlText(slug)}, ${sqlText(`Bench ${key}`)}, 'UTC', 1, 730, ${now});`,
    );
  }
  statements.push(
    `INSERT INTO users (email, name, password_hash, is_global_admin, disabled, created_at) VALUES (${sqlText(BENCH_ADMIN)}, 'Bench Site Administrator', ${sqlText(hashPassword(LOCAL_PASSWORD))}, 0, 0, ${now});`,
  );
  for (const slug of Object.values(SITES)) {
    statements.push(
      `INSERT INTO memberships (user_id, site_id, role) SELECT u.id, s.id, 'site_admin' FROM users u, sites s WHERE u.email = ${sqlText(BENCH_ADMIN)} AND s.slug = ${sqlText(slug)};`,
    );
  }

  // Token clients: real registrations with a stored keyed hash of a secret only this run knows.
  for (const client of clients) {
    statements.push(
      `INSERT INTO app_registrations (site_id, client_id, name, description, enabled, scopes, access_token_lifetime, expiration_date, expires_at, created_at, updated_at) VALUES ((SELECT id FROM sites WHERE slug = ${sqlText(SITES.api)}), ${sqlText(client.clientId)}, ${sqlText(client.name)}, 'Benchmark client', 1, 'devices:read devices:write', 3600, ${sqlText(tokenExpiry)}, ${utcMidnight(tokenExpiry)}, ${now}, ${now});`,
      `INSERT INTO client_secrets (registration_id, secret_hash, created_at) SELECT id, ${sqlText(hashClientSecret(pepper, client.clientSecret))}, ${now} FROM app_registrations WHERE client_id = ${sqlText(client.clientId)};`,
    );
  }
  statements.push(
    `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 20)
INSERT INTO devices (site_id, name, ip_address, last_seen_at, created_at)
SELECT (SELECT id FROM sites WHERE slug = ${sqlText(SITES.api)}), printf('scanner-%02d', n), printf('10.0.0.%d', n), ${now} - n * 60000, ${now} FROM seq;`,
  );

  // Grid Sites: names sort in insertion order; expiry 32..729 days ahead; half of them used recently.
  const gridRows = (count, site, prefix) =>
    sequenceInsert({
      count,
      site,
      clientIdPrefix: prefix,
      name: `printf('Bench app %05d', n)`,
      expiryDays: "32 + n % 698",
      createdAt: `${now} - n * 1000`,
      lastUsedAt: `CASE WHEN n % 2 = 0 THEN ${now} - (n % 1000) * 60000 END`,
    });
  statements.push(gridRows(plan.gridSmall, SITES.grid10, "00000001"));
  statements.push(gridRows(plan.gridLarge, SITES.grid10k, "00000002"));

  // Cron Site: the rest of the 100,000, none due (expiry 32..729 days ahead)…
  statements.push(
    sequenceInsert({
      count: plan.cronNotDue,
      site: SITES.cron,
      clientIdPrefix: "00000003",
      name: `printf('Cron app %06d', n)`,
      expiryDays: "32 + n % 698",
      createdAt: `${now} - n * 1000`,
      lastUsedAt: "NULL",
    }),
  );
  // …and 1 % due at `now`, one third per milestone: expired today, expires in 3 days (7-day notice), in 20 days
  // (30-day notice). Each fires exactly one notification (only the latest due milestone fires, §5).
  statements.push(
    sequenceInsert({
      count: plan.due,
      site: SITES.cron,
      clientIdPrefix: "00000004",
      name: `printf('Cron due %04d', n)`,
      expiryDays: "CASE n % 3 WHEN 0 THEN 0 WHEN 1 THEN 3 ELSE 20 END",
      createdAt: `${now} - 60 * ${DAY}`,
      lastUsedAt: "NULL",
    }),
  );
  return statements.filter(Boolean).join("\n").replaceAll(":today", sqlText(today));
}
