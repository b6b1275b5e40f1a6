import type { Context } from "hono";

/** RFC 9457 problem details, the management API's one error shape. `code` is stable; `errors` names each field's problem. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Record<string, string>;
}

export const PROBLEM_TYPE_BASE = "https://alloyscan.example/problems/";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  428: "Precondition Required",
  500: "Internal Server Error",
};

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 428 | 500;

export function problemBody(
  status: ProblemStatus,
  code: string,
  detail: string,
  errors?: Record<string, string>,
): Problem {
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

/** A problem+json answer (never cached). */
export function problem(
  status: ProblemStatus,
  code: string,
  detail: string,
  options: { errors?: Record<string, string>; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify(problemBody(status, code, detail, options.errors)), {
    status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...options.headers },
  });
}

/** Every field's first problem, from a failed zod parse. */
export function fieldProblems(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "body";
    errors[field] ??= issue.message;
  }
  return errors;
}

export const validationProblem = (issues: readonly { path: readonly PropertyKey[]; message: string }[]) =>
  problem(400, "validation_failed", "The request has invalid fields: see errors.", { errors: fieldProblems(issues) });

export type { Context };
