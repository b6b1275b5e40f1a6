import { verifyClientSecret } from "./client-secret";
import type { ClientAuthMethod } from "./types";

/** `client_secret_basic` (RFC 6749 §2.3.1): the Client ID and secret in an HTTP Basic Authorization header. */
export const clientSecretBasic: ClientAuthMethod<{ clientSecret: string }> = {
  name: "client_secret_basic",
  usesAuthorizationHeader: true,
  present({ authorization, params }) {
    switch (authorization.kind) {
      case "none":
      case "not-basic":
        return { kind: "absent" };
      case "malformed":
        return { kind: "malformed", description: authorization.reason };
      case "credentials": {
        // RFC 6749 §3.2.1 lets a client also name itself with client_id; it must then be the same client.
        const named = params.get("client_id");
        if (named !== undefined && named !== authorization.clientId) {
          return { kind: "malformed", description: "client_id differs from the Client ID in the Basic credentials." };
        }
        return {
          kind: "present",
          clientId: authorization.clientId,
          credentials: { clientSecret: authorization.clientSecret },
        };
      }
    }
  },
  verify: ({ clientSecret }, client, { env, now }) => verifyClientSecret(env.SECRET_PEPPER, clientSecret, client, now),
};
