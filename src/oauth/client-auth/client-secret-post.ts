import { verifyClientSecret } from "./client-secret";
import type { ClientAuthMethod } from "./types";

/** `client_secret_post` (RFC 6749 §2.3.1): client_id and client_secret in the form body. */
export const clientSecretPost: ClientAuthMethod<{ clientSecret: string }> = {
  name: "client_secret_post",
  usesAuthorizationHeader: false,
  present({ params }) {
    const clientSecret = params.get("client_secret");
    if (clientSecret === undefined) return { kind: "absent" };
    const clientId = params.get("client_id");
    if (clientId === undefined) return { kind: "malformed", description: "client_secret was sent without client_id." };
    return { kind: "present", clientId, credentials: { clientSecret } };
  },
  verify: ({ clientSecret }, client, { env, now }) => verifyClientSecret(env.SECRET_PEPPER, clientSecret, client, now),
};
