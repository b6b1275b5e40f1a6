import type { UsageDay, UsageSummary } from "../../src/usage/queries";
import { DataTable } from "../components/data-table";

const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

/** What a day says, in the chart's tip, its bar's title and the table. */
export const dayText = (d: UsageDay) =>
  `${d.date}: ${plural(d.tokens, "token", "tokens")}, ${plural(d.failures, "failure", "failures")}`;

/** The chart's accessible name: what it shows and its totals. */
export function chartName(summary: UsageSummary, subject: string): string {
  return `Tokens and failures per day of ${subject}, last ${summary.days.length} days (UTC): ${plural(summary.tokens30d, "token", "tokens")}, ${plural(summary.failures30d, "failure", "failures")}.`;
}

const WIDTH = 600;
const HEIGHT = 150;
const TOP = 22;
const BOTTOM = 18;

/**
 * Tokens per day as bars and failures per day as a second, red series, as inline SVG drawn on the server: no script
 * and no style attribute (the CSP holds), readable with JavaScript off. Hovering a day, or focusing it with Tab,
 * shows its date and counts (CSS only); the same numbers are in a table behind a disclosure.
 */
export function UsageChart(props: { summary: UsageSummary; subject: string; id: string; compact?: boolean }) {
  const { summary, id } = props;
  const days = summary.days;
  const slot = WIDTH / Math.max(1, days.length);
  const max = Math.max(1, ...days.map((d) => Math.max(d.tokens, d.failures)));
  const plot = HEIGHT - TOP - BOTTOM;
  const height = (n: number) => (n === 0 ? 0 : Math.max(2, Math.round((n / max) * plot)));
  const name = chartName(summary, props.subject);
  return (
    <figure class={props.compact ? "usage-chart compact" : "usage-chart"}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={name}
        id={id}
        class="usage-svg"
        preserveAspectRatio="none"
      >
        <line class="axis" x1="0" y1={HEIGHT - BOTTOM} x2={WIDTH} y2={HEIGHT - BOTTOM} />
        <text class="axis-label" x="0" y={HEIGHT - 4}>
          {days[0]?.date ?? ""}
        </text>
        <text class="axis-label end" x={WIDTH} y={HEIGHT - 4}>
          {days.at(-1)?.date ?? ""}
        </text>
        <text class="axis-label" x="0" y="12">
          {`max ${count(max)} per day`}
        </text>
        {days.map((d, i) => {
          const x = i * slot;
          const tokens = height(d.tokens);
          const failures = height(d.failures);
          return (
            <g class="day" tabindex={0} data-date={d.date}>
              <title>{dayText(d)}</title>
              <rect class="hit" x={x} y={TOP} width={slot} height={plot} />
              <rect class="tokens" x={x + 1} y={HEIGHT - BOTTOM - tokens} width={slot * 0.55} height={tokens} />
              <rect
                class="failures"
                x={x + 1 + slot * 0.55}
                y={HEIGHT - BOTTOM - failures}
                width={slot * 0.3}
                height={failures}
              />
              <text class="tip" x={WIDTH / 2} y="12">
                {dayText(d)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="legend tokens">Tokens</span> <span class="legend failures">Failures</span>{" "}
        <span class="muted">per UTC day; hover or Tab to a day for its numbers.</span>
      </figcaption>
      <details class="usage-numbers">
        <summary>Show the numbers</summary>

        <DataTable columns={["Day (UTC)", "Tokens", "Failures"]} label={name}>
          {days.map((d) => (
            <tr>
              <td>{d.date}</td>
              <td>{count(d.tokens)}</td>
              <td>{count(d.failures)}</td>
            </tr>
          ))}
        </DataTable>
      </details>
    </figure>
  );
}

/** The totals beside a chart. */
export function UsageTotals({ summary }: { summary: UsageSummary }) {
  return (
    <dl class="details usage-totals">
      <dt>Tokens, last 24 hours</dt>
      <dd>{count(summary.tokens24h)}</dd>
      <dt>Tokens, last 7 days</dt>
      <dd>{count(summary.tokens7d)}</dd>
      <dt>Tokens, last 30 days</dt>
      <dd>{count(summary.tokens30d)}</dd>
      <dt>Busiest day</dt>
      <dd>
        {summary.busiest
          ? `${summary.busiest.date} (${plural(summary.busiest.tokens, "token", "tokens")})`
          : "None yet"}
      </dd>
      <dt>Failures, last 24 hours</dt>
      <dd>{count(summary.failures24h)}</dd>
      <dt>Failures, last 30 days</dt>
      <dd>{count(summary.failures30d)}</dd>
    </dl>
  );
}

/** A registration's "Usage" section (its page). */
export function UsageSection(props: { summary: UsageSummary; name: string; csvHref: string }) {
  return (
    <section class="card usage" id="usage" aria-labelledby="usage-heading">
      <h2 id="usage-heading">Usage</h2>
      <UsageTotals summary={props.summary} />
      <UsageChart summary={props.summary} subject={props.name} id="usage-chart" />
      <p>
        <a href={props.csvHref} download>
          Export daily usage (CSV)
        </a>
      </p>
    </section>
  );
}

/** A sparkline of the last 30 days of tokens (the grid's Last used cell). */
export function Sparkline({ series, label }: { series: number[]; label: string }) {
  const max = Math.max(1, ...series);
  const w = 60;
  const h = 14;
  const step = w / Math.max(1, series.length - 1);
  const points = series.map((n, i) => `${(i * step).toFixed(1)},${(h - (n / max) * (h - 2) - 1).toFixed(1)}`).join(" ");
  return (
    <svg class="sparkline" viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={label}>
      <polyline points={points} />
    </svg>
  );
}
