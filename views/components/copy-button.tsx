/**
 * A small Copy button for the text of the element with id `target` (static/app.js does the copying and announces
 * it). It needs JavaScript, so without it the button is not shown at all (the value stays selectable).
 */
export function CopyButton(props: { target: string; what: string; label?: string }) {
  const label = props.label ?? "Copy";
  return (
    <button
      type="button"
      class="copy-button secondary small"
      data-copy-target={props.target}
      data-label={label}
      data-copied={`${props.what} copied to the clipboard.`}
      aria-label={label === "Copy" ? `Copy ${props.what}` : undefined}
    >
      {label}
    </button>
  );
}
