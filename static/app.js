// The only page script (CSP forbids inline script). Progressive enhancement: every page works without it.
(() => {
  // Controls that only work with this script (Copy buttons) are shown once it runs.
  document.documentElement.classList.add("js");

  /** Says `text` to screen readers through the page's polite live region. */
  const announce = (text) => {
    const region = document.getElementById("live-region");
    if (!region) return;
    region.textContent = "";
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  };

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
      const alerts = dismiss.closest(".alerts");
      dismiss.closest(".api-client-alert")?.remove();
      // With one banner left, "Dismiss all" has nothing more to say.
      const left = alerts?.querySelectorAll(".api-client-alert").length ?? 0;
      if (left < 2) alerts?.querySelector(".alerts-summary")?.remove();
      if (left === 0) alerts?.remove();
      document.getElementById("main")?.focus();
      return;
    }
    if (target.closest("[data-dismiss-all-alerts]")) {
      document.getElementById("api-client-alerts")?.remove();
      document.getElementById("main")?.focus();
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
        announce(
          copy.getAttribute("data-copied") ??
            `${copy.getAttribute("data-label")?.replace(/^Copy /, "") ?? "Value"} copied to the clipboard.`,
        );
      } catch {
        if (source instanceof HTMLInputElement) source.select();
        copy.textContent = "Press Ctrl+C to copy";
        announce("Press Ctrl+C to copy.");
      }
      setTimeout(() => {
        copy.textContent = copy.getAttribute("data-label") ?? "Copy";
      }, 2000);
    }
  });

  // After an htmx swap, focus goes to the swapped region (its heading when it has one) and the result is announced
  // (the grid's "1–12 of 12 registrations"), so keyboard and screen-reader users land where the change happened.
  document.addEventListener("htmx:after:settle", (event) => {
    const swapped = event.detail?.ctx?.target ?? event.target;
    if (!(swapped instanceof HTMLElement) || !swapped.isConnected) return;
    const focusable = swapped.querySelector("h1, h2, h3") ?? swapped;
    if (!focusable.hasAttribute("tabindex")) focusable.setAttribute("tabindex", "-1");
    if (!swapped.contains(document.activeElement) || document.activeElement === document.body) {
      focusable.focus({ preventScroll: false });
    }
    const summary = swapped.querySelector(".grid-summary, [role='status']");
    if (summary?.textContent) announce(summary.textContent.trim());
  });

  // The grid's search box: typing goes on while results arrive. The swap brings back the box with the value that was
  // sent; the value typed since is put back (and searched for), so no keystroke is lost.
  let typed = null;
  document.addEventListener("htmx:before:swap", () => {
    const box = document.activeElement;
    typed = box instanceof HTMLInputElement && box.id === "grid-search-q" ? box.value : null;
  });
  document.addEventListener("htmx:after:swap", () => {
    const box = document.getElementById("grid-search-q");
    if (typed === null || !(box instanceof HTMLInputElement)) return;
    if (box.value !== typed) {
      box.value = typed;
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
    box.focus();
    box.setSelectionRange(typed.length, typed.length);
    typed = null;
  });

  // The grid's selection: a "select every row on this page" box in the header (it needs this script, so it is added
  // here rather than rendered).
  const addSelectAll = (root) => {
    for (const th of root.querySelectorAll("table.registrations th.select")) {
      if (th.querySelector("input")) continue;
      const all = document.createElement("input");
      all.type = "checkbox";
      all.setAttribute("aria-label", "Select every row on this page");
      all.addEventListener("change", () => {
        for (const box of th.closest("table")?.querySelectorAll('tbody input[name="ids"]') ?? [])
          box.checked = all.checked;
      });
      th.append(all);
    }
  };
  addSelectAll(document);
  document.addEventListener("htmx:after:settle", () => addSelectAll(document));
  // The bulk form asks which rows when none is ticked, instead of posting an empty selection.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "bulk-form") return;
    if (!document.querySelector('input[name="ids"][form="bulk-form"]:checked')) {
      event.preventDefault();
      const message = form.querySelector(".bulk-message");
      if (message) message.textContent = "Select one or more rows first.";
      const first = document.querySelector('input[name="ids"][form="bulk-form"]');
      if (first instanceof HTMLElement) first.focus();
    }
  });

  // Menus (details.menu): one open at a time; Escape, a click outside or focus leaving closes them; arrow keys move
  // between a menu's links and buttons.
  const openMenus = () => [...document.querySelectorAll("details.menu[open]")];
  const closeMenu = (menu, refocus) => {
    menu.removeAttribute("open");
    if (refocus) menu.querySelector("summary")?.focus();
  };
  document.addEventListener(
    "toggle",
    (event) => {
      const menu = event.target;
      if (!(menu instanceof HTMLDetailsElement) || !menu.classList.contains("menu") || !menu.open) return;
      for (const other of openMenus()) if (other !== menu) closeMenu(other, false);
    },
    true,
  );
  document.addEventListener("keydown", (event) => {
    const menu = event.target instanceof Element ? event.target.closest("details.menu[open]") : null;
    if (event.key === "Escape") {
      for (const open of openMenus()) closeMenu(open, open === menu);
      return;
    }
    if (!menu || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    const items = [...menu.querySelectorAll("a[href], button:not([disabled]), input, select")].filter(
      (el) => el.offsetParent !== null,
    );
    if (items.length === 0) return;
    const at = items.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? (at + 1) % items.length : (at - 1 + items.length) % items.length;
    items[at < 0 ? 0 : next]?.focus();
    event.preventDefault();
  });
  document.addEventListener("click", (event) => {
    const inside = event.target instanceof Element ? event.target.closest("details.menu") : null;
    for (const open of openMenus()) if (open !== inside) closeMenu(open, false);
  });
  document.addEventListener("focusout", (event) => {
    const menu = event.target instanceof Element ? event.target.closest("details.menu[open]") : null;
    const next = event.relatedTarget;
    if (menu && next instanceof Node && !menu.contains(next)) closeMenu(menu, false);
  });

  // Forms with data-confirm ask before submitting (used when htmx is not in charge, e.g. plain posts).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
