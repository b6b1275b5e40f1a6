import { z } from "zod";
import { TOKEN_ENDPOINT_AUTH_METHODS } from "../oauth/client-auth/index";
import { SCOPES, type Scope, TOKEN_ENDPOINT_PATH } from "../oauth/config";
import {
  clientIdParam,
  createdRegistrationResource,
  createdSecretResource,
  keyIdParam,
  keyListResource,
  keyResource,
  newKeyBody,
  newRegistrationBody,
  newSecretBody,
  problemResource,
  registrationListQuery,
  registrationListResource,
  registrationPatchBody,
  registrationResource,
  secretIdParam,
  secretListResource,
  securityEventListResource,
  securityEventsQuery,
  siteParam,
} from "./management/schemas";
import { deviceListQuery, deviceListResource, deviceResource, newDeviceBody } from "./schemas";

/**
 * The OpenAPI 3.1 document of everything a consumer calls: the token endpoint, the devices API and the management API.
 * Request parameters and bodies are generated (zod's JSON Schema output) from the very schemas the routes validate
 * with, and responses from the schemas the tests parse answers with, so the document cannot drift from the server.
 * The token endpoint has its own RFC 6749 parser; its form is described here by hand.
 */

type Json = Record<string, unknown>;

/** A zod schema as an OpenAPI 3.1 (JSON Schema 2020-12) schema object. */
function schemaOf(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return json;
}

const COMPONENTS: Record<string, [z.ZodType, "input" | "output"]> = {
  NewRegistration: [newRegistrationBody, "input"],
  RegistrationPatch: [registrationPatchBody, "input"],
  Registration: [registrationResource, "output"],
  CreatedRegistration: [createdRegistrationResource, "output"],
  RegistrationList: [registrationListResource, "output"],
  NewSecret: [newSecretBody, "input"],
  CreatedSecret: [createdSecretResource, "output"],
  SecretList: [secretListResource, "output"],
  NewKey: [newKeyBody, "input"],
  Key: [keyResource, "output"],
  KeyList: [keyListResource, "output"],
  SecurityEventList: [securityEventListResource, "output"],
  NewDevice: [newDeviceBody, "input"],
  Device: [deviceResource, "output"],
  DeviceList: [deviceListResource, "output"],
  Problem: [problemResource, "output"],
};
type Component = keyof typeof COMPONENTS;

const ref = (name: Component) => ({ $ref: `#/components/schemas/${name}` });

interface Operation {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  operationId: string;
  summary: string;
  tag: "Token" | "Devices" | "App registrations" | "Client secrets" | "Public keys" | "Security log";
  scope?: Scope;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: { name: string; required: boolean; description: string }[];
  body?: Component;
  /** Status → what the answer holds (a component, or nothing). */
  responses: Record<number, { description: string; schema?: Component; headers?: Record<string, string> }>;
}

const PROBLEMS = {
  400: "Invalid input: `errors` names each field's problem.",
  401: "No valid access token (Bearer challenge in WWW-Authenticate).",
  403: "insufficient_scope, another Site, the REST API turned off, or a scope the caller may not grant.",
  404: "No such registration, secret or key in this Site.",
  409: "Conflict (see `code`).",
  412: "The ETag in If-Match is stale.",
  413: "The body is larger than 32 KB.",
  415: "The body is not application/json.",
  428: "If-Match is required.",
} as const;

const problems = (...statuses: (keyof typeof PROBLEMS)[]) =>
  Object.fromEntries(statuses.map((s) => [s, { description: PROBLEMS[s], schema: "Problem" as const }]));

const REGISTRATIONS = "/api/v1/sites/{site}/app-registrations";
const ONE = `${REGISTRATIONS}/{client_id}`;
const ETAG = { ETag: "The registration's entity tag, for If-Match." };

export const OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: `${REGISTRATIONS}`,
    operationId: "listAppRegistrations",
    summary: "List the Site's App registrations",
    tag: "App registrations",
    scope: "registrations:read",
    params: siteParam,
    query: registrationListQuery,
    responses: {
      200: { description: "A page of registrations.", schema: "RegistrationList" },
      ...problems(400, 401, 403),
    },
  },
  {
    method: "post",
    path: `${REGISTRATIONS}`,
    operationId: "createAppRegistration",
    summary: "Create an App registration; its Client secret is returned this once",
    tag: "App registrations",
    scope: "registrations:write",
    params: siteParam,
    headers: [
      {
        name: "Idempotency-Key",
        required: false,
        description: "Repeating a key (24 hours) with the same body answers the same registration, without its secret.",
      },
    ],
    body: "NewRegistration",
    responses: {
      201: {
        description: "Created.",
        schema: "CreatedRegistration",
        headers: { Location: "The registration's address.", ...ETAG },
      },
      200: {
        description: "A repeated Idempotency-Key: the registration it created (no secret).",
        schema: "Registration",
      },
      ...problems(400, 401, 403, 409, 413, 415),
    },
  },
  {
    method: "get",
    path: ONE,
    operationId: "getAppRegistration",
    summary: "Read one App registration",
    tag: "App registrations",
    scope: "registrations:read",
    params: clientIdParam,
    responses: {
      200: { description: "The registration.", schema: "Registration", headers: ETAG },
      304: { description: "Not modified (If-None-Match)." },
      ...problems(401, 403, 404),
    },
  },
  {
    method: "patch",
    path: ONE,
    operationId: "updateAppRegistration",
    summary: "Change or renew an App registration",
    tag: "App registrations",
    scope: "registrations:write",
    params: clientIdParam,
    headers: [{ name: "If-Match", required: true, description: "The ETag of the registration as last read." }],
    body: "RegistrationPatch",
    responses: {
      200: { description: "The registration as saved.", schema: "Registration", headers: ETAG },
      ...problems(400, 401, 403, 404, 412, 413, 415, 428),
    },
  },
  {
    method: "delete",
    path: ONE,
    operationId: "deleteAppRegistration",
    summary: "Delete an App registration",
    tag: "App registrations",
    scope: "registrations:write",
    params: clientIdParam,
    responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404) },
  },
  {
    method: "get",
    path: `${ONE}/secrets`,
    operationId: "listClientSecrets",
    summary: "List a registration's Client secrets (hints only)",
    tag: "Client secrets",
    scope: "registrations:read",
    params: clientIdParam,
    responses: { 200: { description: "The secrets.", schema: "SecretList" }, ...problems(401, 403, 404) },
  },
  {
    method: "post",
    path: `${ONE}/secrets`,
    operationId: "createClientSecret",
    summary: "Issue a new Client secret (rotation); it is returned this once",
    tag: "Client secrets",
    scope: "registrations:write",
    params: clientIdParam,
    body: "NewSecret",
    responses: {
      201: { description: "Issued.", schema: "CreatedSecret" },
      ...problems(400, 401, 403, 404, 409, 413, 415),
    },
  },
  {
    method: "delete",
    path: `${ONE}/secrets/{secret_id}`,
    operationId: "revokeClientSecret",
    summary: "Revoke a Client secret",
    tag: "Client secrets",
    scope: "registrations:write",
    params: secretIdParam,
    responses: { 204: { description: "Revoked." }, ...problems(401, 403, 404, 409) },
  },
  {
    method: "get",
    path: `${ONE}/keys`,
    operationId: "listClientKeys",
    summary: "List a registration's public keys (private_key_jwt)",
    tag: "Public keys",
    scope: "registrations:read",
    params: clientIdParam,
    responses: { 200: { description: "The keys.", schema: "KeyList" }, ...problems(401, 403, 404) },
  },
  {
    method: "post",
    path: `${ONE}/keys`,
    operationId: "addClientKey",
    summary: "Add a public key (PEM certificate or JWK)",
    tag: "Public keys",
    scope: "registrations:write",
    params: clientIdParam,
    body: "NewKey",
    responses: { 201: { description: "Added.", schema: "Key" }, ...problems(400, 401, 403, 404, 409, 413, 415) },
  },
  {
    method: "delete",
    path: `${ONE}/keys/{key_id}`,
    operationId: "removeClientKey",
    summary: "Remove a public key",
    tag: "Public keys",
    scope: "registrations:write",
    params: keyIdParam,
    responses: { 204: { description: "Removed." }, ...problems(401, 403, 404) },
  },
  {
    method: "get",
    path: "/api/v1/sites/{site}/security-events",
    operationId: "listSecurityEvents",
    summary: "Poll the Site's security log (settled rows after since_id)",
    tag: "Security log",
    scope: "security-log:read",
    params: siteParam,
    query: securityEventsQuery,
    responses: {
      200: { description: "Rows after since_id.", schema: "SecurityEventList" },
      ...problems(400, 401, 403),
    },
  },
  {
    method: "get",
    path: "/api/v1/sites/{site}/devices",
    operationId: "listDevices",
    summary: "List the Site's devices",
    tag: "Devices",
    scope: "devices:read",
    params: siteParam,
    query: deviceListQuery,
    responses: { 200: { description: "A page of devices.", schema: "DeviceList" }, 400: { description: "Bad query." } },
  },
  {
    method: "post",
    path: "/api/v1/sites/{site}/devices",
    operationId: "createDevice",
    summary: "Create a device",
    tag: "Devices",
    scope: "devices:write",
    params: siteParam,
    body: "NewDevice",
    responses: { 201: { description: "Created.", schema: "Device" }, 400: { description: "Invalid fields." } },
  },
];

function parametersOf(op: Operation): Json[] {
  const out: Json[] = [];
  const add = (where: "path" | "query", shape: z.ZodObject) => {
    const json = schemaOf(shape, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema as Json & { description?: string };
      out.push({
        name,
        in: where,
        required: where === "path" || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  if (op.params) add("path", op.params);
  if (op.query) add("query", op.query);
  for (const header of op.headers ?? []) {
    out.push({
      name: header.name,
      in: "header",
      required: header.required,
      description: header.description,
      schema: { type: "string" },
    });
  }
  return out;
}

function operationObject(op: Operation): Json {
  const responses: Json = {};
  for (const [status, answer] of Object.entries(op.responses)) {
    const type = answer.schema === "Problem" ? "application/problem+json" : "application/json";
    responses[status] = {
      description: answer.description,
      ...(answer.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(answer.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }]),
            ),
          }
        : {}),
      ...(answer.schema ? { content: { [type]: { schema: ref(answer.schema) } } } : {}),
    };
  }
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    security: op.scope ? [{ oauth2: [op.scope] }] : [],
    parameters: parametersOf(op),
    ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.body) } } } } : {}),
    responses,
  };
}

/** The token endpoint's form (RFC 6749 §4.4.2, RFC 7523), described by hand: its parser is not a zod schema. */
const TOKEN_OPERATION: Json = {
  operationId: "requestAccessToken",
  summary: "Exchange client credentials for an access token (client_credentials)",
  tags: ["Token"],
  security: [{ clientSecretBasic: [] }, {}],
  requestBody: {
    required: true,
    content: {
      "application/x-www-form-urlencoded": {
        schema: {
          type: "object",
          required: ["grant_type"],
          properties: {
            grant_type: { const: "client_credentials" },
            scope: {
              type: "string",
              description: `Space-separated; default: all the registration's scopes (${SCOPES.join(", ")}).`,
            },
            client_id: { type: "string", description: "client_secret_post, or private_key_jwt." },
            client_secret: { type: "string", description: "client_secret_post." },
            client_assertion_type: { const: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" },
            client_assertion: { type: "string", description: "private_key_jwt: a JWT signed with a registered key." },
          },
        },
      },
    },
  },
  responses: {
    200: {
      description: "An access token (RFC 9068 JWT).",
      content: {
        "application/json": {
          schema: {
            type: "object",
            required: ["access_token", "token_type", "expires_in", "scope"],
            properties: {
              access_token: { type: "string" },
              token_type: { const: "Bearer" },
              expires_in: { type: "integer" },
              scope: { type: "string" },
            },
          },
        },
      },
    },
    400: { description: "invalid_request, unsupported_grant_type or invalid_scope (RFC 6749 §5.2)." },
    401: { description: "invalid_client: the reason is in the Site's security log, never in the answer." },
    429: { description: "Too many failures: Retry-After says when to try again." },
  },
};

const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  "devices:read": "Read the Site's devices.",
  "devices:write": "Create devices.",
  "registrations:read": "Read App registrations, their secrets' hints and their public keys.",
  "registrations:write": "Create, change, renew and delete App registrations; issue and revoke secrets; manage keys.",
  "security-log:read": "Read the Site's security log.",
};

/** The whole document, for the deployment answering at `origin`. */
export function openApiDocument(origin: string): Json {
  const paths: Record<string, Json> = { [TOKEN_ENDPOINT_PATH]: { post: TOKEN_OPERATION } };
  for (const op of OPERATIONS) {
    paths[op.path] = { ...(paths[op.path] ?? {}), [op.method]: operationObject(op) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "AlloyScan App registrations API",
      version: "1.0.0",
      description:
        "The token endpoint (OAuth 2.0 client_credentials), the devices API and the management API. Errors of the management API are RFC 9457 problem+json with a stable `code`.",
    },
    servers: [{ url: origin }],
    tags: ["Token", "App registrations", "Client secrets", "Public keys", "Security log", "Devices"].map((name) => ({
      name,
    })),
    paths,
    components: {
      schemas: Object.fromEntries(
        Object.entries(COMPONENTS).map(([name, [schema, io]]) => [name, schemaOf(schema, io)]),
      ),
      securitySchemes: {
        oauth2: {
          type: "oauth2",
          description: "An App registration's access token, from the token endpoint.",
          flows: { clientCredentials: { tokenUrl: TOKEN_ENDPOINT_PATH, scopes: SCOPE_DESCRIPTIONS } },
        },
        clientSecretBasic: {
          type: "http",
          scheme: "basic",
          description: `Client ID and Client secret (also accepted: ${TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => m !== "client_secret_basic").join(", ")}, in the form).`,
        },
      },
    },
  };
}
