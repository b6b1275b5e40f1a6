import type { z } from "zod";

/**
 * Strict UTF-8: invalid bytes throw instead of becoming U+FFFD. decode() keeps no state between calls, so this one
 * decoder serves every request (token forms, Basic credentials, client assertions).
 */
export const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Names and descriptions that people type are shown to other people: in the grid, on pages, in emails and logs.
 * Characters that make text look like something else are refused there (Trojan Source, CVE-2021-42574):
 * bidirectional embeddings, overrides and isolates, zero-width characters and C0/C1 controls. Letters of every
 * script and emoji stay allowed, including emoji ZWJ sequences (👩‍💻), whose joiner sits between two pictographs.
 * Accepted text is normalised to NFC, so names that look the same are stored the same.
 */

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/u;
const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROLS = /[\u0000-\u001F\u007F-\u009F]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROLS_BUT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
/** A zero-width joiner inside an emoji sequence: pictograph (skin tone, variation selector) ZWJ pictograph. */
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}[\u{1F3FB}-\u{1F3FF}\uFE0F]*)\u200D(?=\p{Extended_Pictographic})/gu;

export interface TextRules {
  /** Descriptions may hold line breaks and tabs; names may not. */
  multiline?: boolean;
}

/** What is wrong with `value` as displayed text, in words for a field error; null when nothing is. */
export function displayTextProblem(value: string, rules: TextRules = {}): string | null {
  if (BIDI_CONTROLS.test(value)) return "Remove the text-direction control characters (U+202A–U+202E, U+2066–U+2069).";
  if (ZERO_WIDTH.test(value.replace(EMOJI_JOINER, ""))) return "Remove the invisible zero-width characters.";
  if (rules.multiline ? CONTROLS_BUT_LINE_BREAKS.test(value) : CONTROLS.test(value)) {
    return rules.multiline ? "Remove control characters." : "Remove line breaks and control characters.";
  }
  return null;
}

/**
 * Refines a string schema: refuses what `displayTextProblem` finds (its message, after `prefix` when one is given,
 * as the REST API words its errors) and outputs the NFC form.
 */
export function displayText<T extends z.ZodType<string, unknown>>(
  schema: T,
  rules: TextRules & { prefix?: string } = {},
) {
  return schema
    .superRefine((value, ctx) => {
      const problem = displayTextProblem(value, rules);
      if (problem) ctx.addIssue({ code: "custom", message: rules.prefix ? `${rules.prefix}: ${problem}` : problem });
    })
    .transform((value) => value.normalize("NFC"));
}
