// Batch post actions from the page (SPEC §4, §5): the selection is sent to
// POST /api/pmd/action in chunks of at most 128 ids, one after another, with a
// progress bar. A failed chunk stops the run; posts not done stay selected.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  const bar = document.querySelector("[data-bulk-actions]");
  if (!root || !bar) return;

  const limit = Number(bar.dataset.actionLimit) || 128;
  const progress = document.querySelector("[data-action-progress]");
  const confirmDialog = document.getElementById("confirm-delete");
  const verbs = {
    hide: { doing: "Hiding", done: "hidden", past: "Hid" },
    unhide: { doing: "Unhiding", done: "unhidden", past: "Unhid" },
    delete: { doing: "Deleting", done: "deleted", past: "Deleted" },
    restore: { doing: "Restoring", done: "restored", past: "Restored" },
  };
  let running = false;

  const plural = (count) => `${count.toLocaleString("en")} post${count === 1 ? "" : "s"}`;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (_) {
      return "";
    }
  }

  function showProgress(action, done, total) {
    progress.hidden = false;
    const meter = progress.querySelector("[role=progressbar]");
    meter.setAttribute("aria-valuemax", String(total));
    meter.setAttribute("aria-valuenow", String(done));
    meter.querySelector("span").style.width = `${total ? (100 * done) / total : 0}%`;
    progress.querySelector("[data-progress-text]").textContent =
      `${verbs[action].doing} ${plural(total)}… ${done.toLocaleString("en")}/${total.toLocaleString("en")}`;
  }

  async function send(action, ids) {
    const response = await fetch(bar.dataset.actionUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ action, post_ids: ids }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fallback = response.status === 403
        ? "Your session has expired. Reload the page and log in again."
        : `The server answered ${response.status}.`;
      throw new Error(data.error || fallback);
    }
    return data;
  }

  function refreshTable() {
    const table = document.getElementById("post-table");
    if (!table || !window.htmx) return Promise.resolve();
    return window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
  }

  async function run(action, ids, { keepSelection = false } = {}) {
    if (running || !ids.length) return;
    const opener = document.activeElement;
    running = true;
    updateButtons();
    let done = 0;
    let changed = 0;
    let lastMessage = "";
    let failure = null;
    showProgress(action, 0, ids.length);
    try {
      for (let start = 0; start < ids.length; start += limit) {
        const chunk = ids.slice(start, start + limit);
        try {
          const result = await send(action, chunk);
          changed += result.affected_count;
          lastMessage = result.message;
        } catch (error) {
          failure = error;
          break;
        }
        done += chunk.length;
        if (!keepSelection) window.PMD.selection.remove(chunk);
        showProgress(action, done, ids.length);
      }
    } finally {
      running = false;
      progress.hidden = true;
      await refreshTable();
      if (done) document.body.dispatchEvent(new CustomEvent("pmd:acted"));
      updateButtons();
      // The bulk button that started it is disabled now that nothing is selected.
      window.PMD.restoreFocus(opener);
    }
    const verb = verbs[action];
    if (failure) {
      const succeeded = done ? `${verb.past} ${plural(done)} of ${ids.length.toLocaleString("en")}. ` : "";
      const rest = ids.length - done;
      window.PMD.toast(
        `${succeeded}${plural(rest)} ${rest === 1 ? "was" : "were"} not ${verb.done}: ${failure.message}` +
          (keepSelection ? "" : " They are still selected."),
        "error",
        12000,
      );
    } else if (ids.length <= limit) {
      // One request: the server's own words ("3 posts hidden (2 were already hidden).").
      window.PMD.toast(lastMessage || `${plural(done)} ${verb.done}.`, "success");
    } else {
      const unchanged = done - changed;
      const note = unchanged ? ` (${plural(unchanged)} needed no change)` : "";
      window.PMD.toast(`${plural(changed)} ${verb.done}${note}.`, "success");
    }
  }

  function confirmDelete(count, title) {
    confirmDialog.querySelector("[data-confirm-text]").textContent = title
      ? `Delete “${title}”?`
      : `Delete ${plural(count)}?`;
    confirmDialog.returnValue = "";
    window.PMD.openDialog(confirmDialog, document.activeElement);
    return new Promise((resolve) => {
      confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "delete"), { once: true });
    });
  }

  function currentView() {
    return document.getElementById("post-table")?.dataset.view || "live";
  }

  function updateButtons() {
    const count = window.PMD.selection.ids().length;
    const view = currentView();
    const reason = bar.querySelector("[data-bulk-reason]");
    let why = "";
    if (running) why = "Working…";
    else if (!count) why = "Select posts to act on them.";
    for (const button of bar.querySelectorAll("[data-bulk]")) {
      const forView = button.dataset.bulk === "restore" ? view === "deleted" : view === "live";
      button.hidden = !forView;
      button.disabled = Boolean(why);
    }
    reason.textContent = why;
  }

  bar.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-bulk]");
    if (!button || button.disabled) return;
    const action = button.dataset.bulk;
    const ids = window.PMD.selection.ids();
    if (action === "delete" && !(await confirmDelete(ids.length))) return;
    await run(action, ids);
  });

  // The eye and trash of one row act on that post alone and leave the selection be.
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-row-action]");
    if (!button) return;
    const row = button.closest("tr[data-post-id]");
    const action = button.dataset.rowAction;
    const title = row.querySelector(".col-title .truncate")?.textContent || "";
    if (action === "delete" && !(await confirmDelete(1, title))) return;
    await run(action, [Number(row.dataset.postId)]);
  });

  window.PMD.selection.onChange(updateButtons);
  document.body.addEventListener("htmx:afterSettle", updateButtons);
  updateButtons();
})();
