import { describe, expect, it } from "vitest";
import doc from "../../docs/security-log.md?raw";
import { DETAIL_CODES, EVENT_LABELS } from "../../src/audit/detail-codes";

describe("docs/security-log.md", () => {
  it("documents every detail code with the catalog's explanation and fix", () => {
    for (const d of DETAIL_CODES) {
      expect(doc, d.code).toContain(
        `| ${EVENT_LABELS[d.event]} | \`${d.code}\` | ${d.explanation} | ${d.fix} | ${d.answer} |`,
      );
    }
  });
});
