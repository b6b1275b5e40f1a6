import { Hono } from "hono";
import { ApiReference } from "../../views/api/reference";
import type { AppEnv } from "../env";
import { originOf } from "../lib/url";
import { issuerFor } from "../oauth/config";
import { openApiDocument } from "./openapi";

/** `/help/api`: the API reference, public like the OpenAPI document it renders. */
export const apiReferenceRoutes = new Hono<AppEnv>().get("/api", (c) =>
  c.render(<ApiReference doc={openApiDocument(originOf(issuerFor(c.env, c.req.url)))} />, { title: "API reference" }),
);
