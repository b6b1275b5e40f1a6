import { expect } from "vitest";
/** The visible text of some markup: tags removed, entities decoded, whitespace collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The body of an answer that must have `status`: the status is checked first, so a failure names it. */
export async function bodyOf(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  return res.text();
}
