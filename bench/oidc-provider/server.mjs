// Benchmark fixture: node-oidc-provider as a client_credentials token service, the reference we compare against.
// One confidential client (client_secret_basic), resource indicators with JWT access tokens signed ES256, the
// provider's built-in in-memory adapter, listening on loopback only. Configured by the bench through env:
// PORT, CLIENT_ID, CLIENT_SECRET, AUDIENCE. Prints "ready <port>" once it listens.
import { createServer } from "node:http";
import { exportJWK, generateKeyPair } from "jose";
import { Provider } from "oidc-provider";

const { PORT = "0", CLIENT_ID, CLIENT_SECRET, AUDIENCE = "https://api.alloyscan.local" } = process.env;
if (!CLIENT_ID || !CLIENT_SECRET) throw new Error("CLIENT_ID and CLIENT_SECRET are required");

const SCOPES = ["devices:read", "devices:write"];
const { privateKey } = await generateKeyPair("ES256", { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: "bench-es256", alg: "ES256", use: "sig" };

const server = createServer();
server.listen(Number(PORT), "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
const { port } = server.address();

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
      scope: SCOPES.join(" "),
    },
  ],
  scopes: SCOPES,
  // The only key is ES256; the default (RS256) would refuse the client.
  clientDefaults: { id_token_signed_response_alg: "ES256" },
  ttl: { ClientCredentials: 3600 },
  jwks: { keys: [signingKey] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== AUDIENCE) throw new Error(`unknown resource ${resource}`);
        return {
          scope: SCOPES.join(" "),
          audience: AUDIENCE,
          accessTokenTTL: 3600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "ES256" } },
        };
      },
    },
  },
  routes: { token: "/oauth/token", jwks: "/.well-known/jwks.json" },
});
// Errors are answered to the client; the bench counts them. Nothing to log per request.
provider.on("server_error", (_ctx, error) => console.error(error));
server.on("request", provider.callback());
console.log(`ready ${port}`);

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
