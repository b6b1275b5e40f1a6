import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { exportJWK, generateKeyPair } from "jose";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** Bundles htmx and the static page files as text, as wrangler's [[rules]] Text does for the deployed Worker. */
const textModules: Plugin = {
  name: "text-modules",
  enforce: "pre",
  load(id) {
    const file = id.split("?")[0] ?? id;
    if (/htmx\.min\.js$|\/static\/app\.(js|css)$/.test(file)) {
      return `export default ${JSON.stringify(readFileSync(file, "utf8"))};`;
    }
    return undefined;
  },
};

async function testSigningKeys(): Promise<string> {
  const keys = [];
  for (const kid of ["test-key-1", "test-key-0"]) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    keys.push({ ...(await exportJWK(privateKey)), kid, alg: "ES256", use: "sig" });
  }
  return JSON.stringify({ keys });
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  const signingKeys = await testSigningKeys();
  return {
    test: {
      projects: [
        {
          plugins: [
            textModules,
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  ENVIRONMENT: "test",
                  ISSUER: "",
                  TEST_MIGRATIONS: migrations,
                  SIGNING_KEYS: signingKeys,
                  SECRET_PEPPER: "test-pepper-0123456789abcdef0123456789abcdef",
                },
              },
            }),
          ],
          test: {
            name: "worker",
            include: ["test/**/*.test.{ts,tsx}"],
            exclude: ["test/browser/**"],
            setupFiles: ["./test/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "browser",
            include: ["test/browser/**/*.test.ts"],
            environment: "node",
            globalSetup: ["./test/browser/global-setup.ts"],
            testTimeout: 60_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
