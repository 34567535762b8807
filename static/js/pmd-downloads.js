// Download requests on the dashboard (SPEC §5, §9): the "Request download"
// dialog, live status over SSE (the panel re-renders on each bdr_update), a
// toast when a request becomes ready or fails, and the connection indicator.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  const live = document.querySelector("[data-live]");
  const dialog = document.getElementById("download-dialog");
  const button = document.querySelector("[data-request-download]");
  if (!root || !live || !dialog || !button) return;

  const limit = Number(dialog.dataset.downloadLimit) || 128;
  const reason = document.querySelector("[data-download-reason]");
  const indicator = live.querySelector("[data-live-indicator]");
  const plural = (count, word) => `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
  let sending = false;

  // Toasts already shown ("<id>:<status>"), so a replayed event never repeats
  // one. What the page showed when it loaded counts as announced.
  const announced = new Set(
    [...document.querySelectorAll("[data-bdr-id]")].map((row) => `${row.dataset.bdrId}:${row.dataset.bdrStatus}`),
  );

  function requestsLeft() {
    const panel = document.querySelector("[data-bdr-panel]");
    return panel ? Number(panel.dataset.requestsLeft) : 0;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (_) {
      return "";
    }
  }

  function update() {
    const count = window.PMD.selection.ids().length;
    const view = document.getElementById("post-table")?.dataset.view || "live";
    let why = "";
    if (sending) why = "Requesting…";
    else if (!count) why = "";
    else if (count > limit) why = `A download takes at most ${limit} posts; ${count.toLocaleString("en")} are selected.`;
    else if (requestsLeft() <= 0) why = "No download requests left today; they reset at midnight UTC.";
    button.hidden = view !== "live";
    button.disabled = sending || !count || count > limit || requestsLeft() <= 0;
    reason.textContent = why;
  }

  async function requestDownload(options) {
    const ids = window.PMD.selection.ids();
    sending = true;
    update();
    try {
      const response = await fetch(dialog.dataset.downloadUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ post_ids: ids, ...options }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
      window.PMD.toast(data.message, "success");
      document.body.dispatchEvent(new CustomEvent("pmd:bdr-changed"));
    } catch (error) {
      window.PMD.toast(error.message, "error", 10000);
    } finally {
      sending = false;
      update();
      window.PMD.restoreFocus(button);
    }
  }

  button.addEventListener("click", () => {
    const count = window.PMD.selection.ids().length;
    dialog.querySelector("[data-download-title]").textContent = `Download ${plural(count, "artwork")}`;
    dialog.returnValue = "";
    window.PMD.openDialog(dialog, button);
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "request") return;
    const form = dialog.querySelector("form");
    requestDownload({
      include_comments: form.elements.include_comments.checked,
      include_reactions: form.elements.include_reactions.checked,
      send_email: form.elements.send_email.checked,
    });
  });

  function setIndicator(state, text) {
    indicator.classList.toggle("is-live", state === "live");
    indicator.classList.toggle("is-down", state === "down");
    indicator.querySelector("[data-live-text]").textContent = text;
  }

  live.addEventListener("htmx:sseOpen", () => {
    setIndicator("live", "Live");
    // A fresh snapshot on every (re)connection: whatever happened while the
    // stream was down is on the page again.
    document.body.dispatchEvent(new CustomEvent("pmd:bdr-changed"));
  });
  live.addEventListener("htmx:sseError", () => setIndicator("down", "Reconnecting…"));

  live.addEventListener("htmx:sseMessage", (event) => {
    const message = event.detail;
    if (!message || message.type !== "bdr_update") return;
    let item;
    try {
      item = JSON.parse(message.data);
    } catch (_) {
      return;
    }
    if (!["ready", "failed"].includes(item.status)) return;
    const key = `${item.id}:${item.status}`;
    if (announced.has(key)) return;
    announced.add(key);
    if (item.status === "ready") {
      window.PMD.toast(`Your download of ${plural(item.artwork_count, "artwork")} is ready.`, "success", 10000);
    } else if (item.status === "failed") {
      window.PMD.toast(`A download request failed: ${item.error_message || "it could not be built."}`, "error", 12000);
    }
  });

  function focusHighlighted(scroll) {
    const row = document.querySelector("[data-bdr-highlight]");
    if (!row) return;
    row.setAttribute("tabindex", "-1");
    if (scroll) row.scrollIntoView({ block: "center" });
    row.focus({ preventScroll: true });
  }

  document.body.addEventListener("htmx:afterSettle", () => {
    update();
    // A refreshed panel replaces the row the email pointed at: keep its focus.
    if (document.activeElement === document.body) focusHighlighted(false);
  });
  window.PMD.selection.onChange(update);

  // The email links to ?bdr=<id>: bring that request into view.
  focusHighlighted(true);
  update();
})();
