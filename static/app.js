// The only page script (CSP forbids inline script). Progressive enhancement: every page works without it.
(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

  // Every htmx request carries the session's CSRF token (§10).
  document.addEventListener("htmx:config:request", (event) => {
    const headers = event.detail?.ctx?.request?.headers;
    if (headers) headers["X-CSRF-Token"] = csrf();
  });

  document.addEventListener("click", async (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    // API client alert: Dismiss hides the banner for this page view; it returns on the next load (§6).
    const dismiss = target.closest("[data-dismiss-alert]");
    if (dismiss) {
      dismiss.closest(".api-client-alert")?.remove();
      return;
    }

    // Copy buttons: copy the value of the element named by data-copy-target.
    const copy = target.closest("[data-copy-target]");
    if (copy) {
      const source = document.getElementById(copy.getAttribute("data-copy-target") ?? "");
      const value = source && "value" in source ? source.value : (source?.textContent ?? "");
      try {
        await navigator.clipboard.writeText(value);
        copy.textContent = "Copied";
      } catch {
        if (source instanceof HTMLInputElement) source.select();
        copy.textContent = "Press Ctrl+C to copy";
      }
      setTimeout(() => {
        copy.textContent = copy.getAttribute("data-label") ?? "Copy";
      }, 2000);
    }
  });

  // Forms with data-confirm ask before submitting (used when htmx is not in charge, e.g. plain posts).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
