/** An access token lifetime in words: "1 hour", "2 hours", "30 minutes". */
export function formatLifetime(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes % 60 === 0) return minutes === 60 ? "1 hour" : `${minutes / 60} hours`;
  return `${minutes} minutes`;
}

/** htmx attributes of a control that loads another grid state: swap only the grid, push the URL (§4). */
export function gridNavigation(href: string, target = "#registrations-grid") {
  return { "hx-get": href, "hx-target": target, "hx-swap": "outerHTML", "hx-push-url": "true" };
}
