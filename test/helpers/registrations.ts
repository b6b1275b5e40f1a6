import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { sites } from "../../src/db/schema";
import { addCalendarDays, calendarDateInZone } from "../../src/lib/time";
import { insertRegistrationWithSecret, type NewRegistration } from "../../src/registrations/repository";
import { db, unique } from "./app";

/** Creates a registration through the real repository; returns the row and its one-time plaintext secret. */
export async function createRegistration(
  siteId: number,
  overrides: Partial<Omit<NewRegistration, "siteId" | "siteTimeZone">> & { daysAhead?: number; now?: number } = {},
) {
  const site = await db().select().from(sites).where(eq(sites.id, siteId)).get();
  if (!site) throw new Error(`no site ${siteId}`);
  const now = overrides.now ?? Date.now();
  const expirationDate =
    overrides.expirationDate ?? addCalendarDays(calendarDateInZone(now, site.timeZone), overrides.daysAhead ?? 90);
  return insertRegistrationWithSecret(
    db(),
    env.SECRET_PEPPER,
    {
      siteId,
      siteTimeZone: site.timeZone,
      name: overrides.name ?? unique("Registration"),
      description: overrides.description,
      expirationDate,
      enabled: overrides.enabled,
      scopes: overrides.scopes,
      accessTokenLifetime: overrides.accessTokenLifetime,
      createdBy: overrides.createdBy,
    },
    now,
  );
}
