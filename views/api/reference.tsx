/**
 * The API reference (`/help/api`): the OpenAPI document, rendered on the server as one readable page (no script, no
 * viewer from a CDN). Everything here is read from the document, so the page and /api/v1/openapi.json agree.
 */

import { ScrollBox } from "../components/scroll-box";

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Json;
}

const METHODS = ["get", "post", "patch", "delete"] as const;

/** A schema in a few words: its type (or its allowed values) and its limits. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return "";
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map(typeOf).join(" | ");
  if (schema.type === "array") return `array of ${typeOf(schema.items as Json)}`;
  const format = typeof schema.format === "string" ? ` (${schema.format})` : "";
  return `${String(schema.type ?? "any")}${format}`;
}

function resolve(doc: Json, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref;
  if (typeof ref !== "string") return schema;
  const name = ref.split("/").at(-1) ?? "";
  return ((doc.components as Json).schemas as Json)[name] as Json;
}

function Fields({ schema, label }: { schema: Json | undefined; label: string }) {
  const properties = (schema?.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema?.required ?? []) as string[]);
  const names = Object.keys(properties);
  if (names.length === 0) return null;
  return (
    <ScrollBox label={label}>
      <table class="grid" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Type</th>
            <th scope="col">Required</th>
            <th scope="col">Notes</th>
          </tr>
        </thead>
        <tbody>
          {names.map((name) => (
            <tr>
              <td>
                <code>{name}</code>
              </td>
              <td>{typeOf(properties[name])}</td>
              <td>{required.has(name) ? "yes" : "no"}</td>
              <td>{String(properties[name]?.description ?? "")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

function OperationSection({ doc, method, path, op }: { doc: Json; method: string; path: string; op: Json }) {
  const parameters = (op.parameters ?? []) as Parameter[];
  const security = (op.security ?? []) as Record<string, string[]>[];
  const scope = security.flatMap((s) => s.oauth2 ?? [])[0];
  const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  const bodyType = body ? Object.keys(body)[0] : undefined;
  const bodySchema = bodyType ? resolve(doc, body?.[bodyType]?.schema as Json) : undefined;
  const responses = (op.responses ?? {}) as Record<string, Json>;
  return (
    <section class="card api-operation" id={String(op.operationId)} aria-labelledby={`${op.operationId}-heading`}>
      <h3 id={`${op.operationId}-heading`}>
        <code>
          {method.toUpperCase()} {path}
        </code>
      </h3>
      <p>
        {String(op.summary ?? "")} <span class="muted">({String(op.operationId)})</span>
      </p>
      {scope ? (
        <p>
          Scope: <code>{scope}</code>
        </p>
      ) : null}
      {parameters.length > 0 ? (
        <>
          <h4>Parameters</h4>
          <ul>
            {parameters.map((p) => (
              <li>
                <code>{p.name}</code> ({p.in}
                {p.required ? ", required" : ""}): {typeOf(p.schema)}
                {p.description ? ` — ${p.description}` : ""}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {bodySchema ? (
        <>
          <h4>Body ({bodyType})</h4>
          <Fields schema={bodySchema} label={`Body fields of ${method.toUpperCase()} ${path}`} />
        </>
      ) : null}
      <h4>Answers</h4>
      <ul>
        {Object.entries(responses).map(([status, answer]) => (
          <li>
            <strong>{status}</strong> {String(answer.description ?? "")}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ApiReference({ doc }: { doc: Json }) {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const tags = ((doc.tags ?? []) as { name: string }[]).map((t) => t.name);
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] as Json })),
  );
  return (
    <article class="catalog api-reference">
      <h1>API reference</h1>
      <p>
        {String((doc.info as Json).description ?? "")} The machine-readable document:{" "}
        <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI {String(doc.openapi)}).
      </p>
      <p>
        Get an access token at <code>POST /oauth/token</code> with the registration's Client ID and secret; send it as{" "}
        <code>Authorization: Bearer …</code>. The management operations need the scopes an administrator granted on the
        registration's page (Management group).
      </p>
      <nav aria-label="Operations">
        <ul>
          {operations.map(({ op }) => (
            <li>
              <a href={`#${op.operationId}`}>{String(op.summary)}</a>
            </li>
          ))}
        </ul>
      </nav>
      {tags.map((tag) => (
        <section aria-labelledby={`tag-${tag.replace(/\W+/g, "-")}`}>
          <h2 id={`tag-${tag.replace(/\W+/g, "-")}`}>{tag}</h2>
          {operations
            .filter(({ op }) => (op.tags as string[] | undefined)?.includes(tag))
            .map(({ path, method, op }) => (
              <OperationSection doc={doc} path={path} method={method} op={op} />
            ))}
        </section>
      ))}
    </article>
  );
}
