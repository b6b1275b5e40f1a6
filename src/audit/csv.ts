import { describeDetailCode, eventLabel } from "./detail-codes";
import { formatLogTime, isoInstant } from "./format";
import type { SecurityLogRow } from "./query";

/** Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection), plus tab and CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula gets a leading apostrophe; a field
 * with a comma, quote, CR or LF is quoted with its quotes doubled. Numbers are written as they are.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value == null) return "";
  if (typeof value === "number") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

export const CSV_HEADER = [
  "Site",
  "First seen (UTC)",
  "Last seen (UTC)",
  "Last seen (Site time)",
  "Time zone",
  "Event",
  "Detail code",
  "Explanation",
  "Fix",
  "Registration",
  "Client ID",
  "IP",
  "User agent",
  "Endpoint",
  "Count",
];

/** A security-log row as CSV values, in the order of CSV_HEADER. */
export function csvRecord(row: SecurityLogRow): (string | number | null)[] {
  const zone = row.siteTimeZone ?? "UTC";
  const info = describeDetailCode(row.event, row.detailCode);
  return [
    row.siteSlug ?? "",
    isoInstant(row.firstAt),
    isoInstant(row.lastAt),
    formatLogTime(row.lastAt, zone),
    zone,
    eventLabel(row.event),
    row.detailCode,
    info?.explanation ?? "",
    info?.fix ?? "",
    row.registrationName,
    row.clientId,
    row.ip,
    row.userAgent,
    row.endpoint,
    row.count,
  ];
}

const encoder = new TextEncoder();

/**
 * The export as a byte stream: a UTF-8 byte order mark (so spreadsheet programs read non-ASCII names right), the
 * header, then the rows batch by batch. The caller awaits the first batch before answering, so a failing database
 * still answers 5xx; a failure later aborts the download instead of ending it as if it were complete.
 */
export function csvStream(first: SecurityLogRow[], rest: AsyncIterator<SecurityLogRow[]>): ReadableStream<Uint8Array> {
  let pending: SecurityLogRow[] | null = first;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`\uFEFF${csvLine(CSV_HEADER)}`));
    },
    async pull(controller) {
      let batch = pending;
      pending = null;
      if (!batch) {
        const next = await rest.next();
        if (next.done) {
          controller.close();
          return;
        }
        batch = next.value;
      }
      controller.enqueue(encoder.encode(batch.map((row) => csvLine(csvRecord(row))).join("")));
    },
    async cancel() {
      await rest.return?.(undefined);
    },
  });
}
