import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
  // Flat numbered SQL files that `wrangler d1 migrations apply` and readD1Migrations both read.
  migrations: { prefix: "index" },
  breakpoints: true,
});
