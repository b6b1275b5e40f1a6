import { exports } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { ORIGIN } from "../helpers/app";
import { createClient } from "../helpers/oauth";

/*
 * Interoperability with oauth4webapi, a standards client this project did not write: it discovers the server from
 * RFC 8414 metadata, authenticates with client_secret_basic / client_secret_post, validates the token response and
 * calls the REST API. Its requests reach the real Worker through `customFetch`.
 */
const issuer = new URL(ORIGIN);
const options = {
  [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
    exports.default.fetch(new Request(url, init as RequestInit)),
};

async function discover() {
  const response = await oauth.discoveryRequest(issuer, { ...options, algorithm: "oauth2" });
  return oauth.processDiscoveryResponse(issuer, response);
}

describe("oauth4webapi", () => {
  it("discovers the server, gets a token with client_secret_basic and lists devices", async () => {
    const { site, clientId, clientSecret } = await createClient({ scopes: ["devices:read"] });
    const as = await discover();
    expect(as.token_endpoint).toBe(`${ORIGIN}/oauth/token`);
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(clientSecret),
      { scope: "devices:read" },
      options,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.scope).toBe("devices:read");
    expect(tokens.expires_in).toBe(3600);

    const api = await oauth.protectedResourceRequest(
      tokens.access_token,
      "GET",
      new URL(`${ORIGIN}/api/v1/sites/${site.slug}/devices`),
      undefined,
      undefined,
      options,
    );
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ devices: [], next_cursor: null });
  });

  it("gets a token with client_secret_post and creates a device", async () => {
    const { site, clientId, clientSecret } = await createClient({ scopes: ["devices:read", "devices:write"] });
    const as = await discover();
    const client: oauth.Client = { client_id: clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(clientSecret),
      {},
      options,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.scope).toBe("devices:read devices:write");
    const created = await oauth.protectedResourceRequest(
      tokens.access_token,
      "POST",
      new URL(`${ORIGIN}/api/v1/sites/${site.slug}/devices`),
      new Headers({ "Content-Type": "application/json" }),
      JSON.stringify({ name: "backup-target", ip_address: "192.0.2.44" }),
      options,
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: "backup-target", ip_address: "192.0.2.44" });
  });

  it("reads our errors and challenges as the RFCs define them", async () => {
    const { site, clientId, clientSecret } = await createClient({ scopes: ["devices:read"] });
    const as = await discover();
    const client: oauth.Client = { client_id: clientId };

    const basic = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic("asc_wrong"),
      {},
      options,
    );
    const challenged = await oauth.processClientCredentialsResponse(as, client, basic).catch((e: unknown) => e);
    expect(challenged).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((challenged as oauth.WWWAuthenticateChallengeError).cause).toEqual([
      { scheme: "basic", parameters: { realm: "AlloyScan token endpoint", charset: "UTF-8" } },
    ]);

    const post = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost("asc_wrong"),
      {},
      options,
    );
    const refused = await oauth.processClientCredentialsResponse(as, client, post).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(oauth.ResponseBodyError);
    expect((refused as oauth.ResponseBodyError).error).toBe("invalid_client");
    expect((refused as oauth.ResponseBodyError).status).toBe(401);

    const scoped = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost(clientSecret),
      { scope: "devices:write" },
      options,
    );
    const invalidScope = await oauth.processClientCredentialsResponse(as, client, scoped).catch((e: unknown) => e);
    expect((invalidScope as oauth.ResponseBodyError).error).toBe("invalid_scope");

    const token = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(clientSecret), {}, options),
    );
    const write = await oauth
      .protectedResourceRequest(
        token.access_token,
        "POST",
        new URL(`${ORIGIN}/api/v1/sites/${site.slug}/devices`),
        new Headers({ "Content-Type": "application/json" }),
        JSON.stringify({ name: "x", ip_address: "192.0.2.1" }),
        options,
      )
      .catch((e: unknown) => e);
    expect(write).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((write as oauth.WWWAuthenticateChallengeError).status).toBe(403);
    expect((write as oauth.WWWAuthenticateChallengeError).cause[0]?.parameters).toEqual({
      realm: "AlloyScan API",
      error: "insufficient_scope",
      error_description: "This request needs the devices:write scope.",
      scope: "devices:write",
    });
  });
});
