// Batch post actions from the page: the selection is sent to
// POST /api/pmd/action in chunks of at most 128 ids, one after another, with a
// progress bar. A failed chunk stops the run; posts not done stay selected.
// The toast of a run that changed something offers "Undo" (also the `u` key):
// POST /api/pmd/action/undo once per request of the run, each naming the
// audit entry the server returned, so the server reverses exactly the posts
// that request changed.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  const bar = document.querySelector("[data-bulk-actions]");
  if (!root || !bar) return;

  const limit = Number(bar.dataset.actionLimit) || 128;
  const progress = document.querySelector("[data-action-progress]");
  const confirmDialog = document.getElementById("confirm-delete");
  const confirmForeverDialog = document.getElementById("confirm-delete-forever");
  const hashtagDialog = document.getElementById("hashtag-dialog");
  const licenseDialog = document.getElementById("license-dialog");
  // How long a toast offers Undo (at least 10 s; longer while hovered or focused).
  const UNDO_MS = 15000;
  // Each action's words and flags, as the registry has them (the buttons are drawn from the same).
  const words = JSON.parse(document.getElementById("action-words").textContent);
  let running = false;
  let offer = null; // the one Undo on offer: {trigger, withdraw}

  const number = (count) => count.toLocaleString("en");
  const plural = (count) => `${number(count)} post${count === 1 ? "" : "s"}`;
  // "Hiding 300 posts", "Adding #pixel to 300 posts".
  const phrase = (verb, word, tag, count) => `${word}${tag ? ` #${tag} ${verb.to}` : ""} ${plural(count)}`;

  function showProgress(label, done, total) {
    progress.hidden = false;
    const meter = progress.querySelector("[role=progressbar]");
    meter.setAttribute("aria-valuemax", String(total));
    meter.setAttribute("aria-valuenow", String(done));
    meter.querySelector("span").style.width = `${total ? (100 * done) / total : 0}%`;
    progress.querySelector("[data-progress-text]").textContent = `${label}… ${number(done)}/${number(total)}`;
  }

  function refreshTable() {
    const table = document.getElementById("post-table");
    if (!table || !window.htmx) return Promise.resolve();
    return window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
  }

  // Sends `requests` ({body, size}) to `url` one after another; closing or
  // reloading the tab meanwhile asks first. `afterEach` sees each result;
  // `firstRefused` (the hashtag dialog) takes a refusal of the first request
  // instead of a toast. Returns what was done.
  function sendAll(url, label, requests, total, options = {}) {
    return window.PMD.holdPage(() => sendEach(url, label, requests, total, options));
  }

  async function sendEach(url, label, requests, total, { afterEach, firstRefused }) {
    const opener = document.activeElement;
    running = true;
    updateButtons();
    const outcome = { done: 0, results: [], failure: null, refusedFirst: false };
    showProgress(label, 0, total);
    try {
      for (const [index, request] of requests.entries()) {
        let result;
        try {
          result = await window.PMD.requestJson(url, request.body);
        } catch (error) {
          if (index === 0 && firstRefused) {
            outcome.refusedFirst = true;
            firstRefused(error.message);
          } else {
            outcome.failure = error;
          }
          break;
        }
        outcome.results.push(result);
        outcome.done += request.size;
        if (afterEach) afterEach(result, request, index);
        showProgress(label, outcome.done, total);
      }
    } finally {
      running = false;
      progress.hidden = true;
      if (outcome.results.length) {
        await refreshTable();
        document.body.dispatchEvent(new CustomEvent("pmd:acted"));
      }
      updateButtons();
      // The bulk button that started it is disabled now that nothing is selected.
      window.PMD.restoreFocus(opener);
    }
    return outcome;
  }

  // One Undo on offer at a time: a newer toast's Undo replaces an older one's.
  function offerUndo(message, kind, run) {
    if (offer) offer.withdraw();
    const changedIds = run.results.flatMap((result) => result.changed_ids);
    if (!changedIds.length || !words[run.action].undoable) {
      window.PMD.toast(message, kind, kind === "error" ? 12000 : 6000);
      return;
    }
    const entries = run.results.filter((result) => result.changed_ids.length);
    let current = null;
    const trigger = () => {
      if (running || offer !== current) return;
      offer = null;
      // The Undo button goes with its toast: focus it had moves to the table.
      const hadFocus = shown.element.contains(document.activeElement);
      shown.dismiss();
      if (hadFocus) document.querySelector("#post-table [data-table-focus]")?.focus();
      undo(run.action, run.hashtag, entries);
    };
    const shown = window.PMD.toast(message, kind, Math.max(UNDO_MS, kind === "error" ? 12000 : 0), {
      label: "Undo",
      shortcut: "u",
      onClick: trigger,
      onExpire: () => { if (offer === current) offer = null; },
    });
    current = { trigger, withdraw: shown.withdraw };
    offer = current;
  }

  async function undo(action, tag, entries) {
    const verb = words[action];
    const total = entries.reduce((sum, result) => sum + result.changed_ids.length, 0);
    const requests = entries.map((result) => ({
      body: { activity_id: result.activity_id },
      size: result.changed_ids.length,
    }));
    const label = `Undoing ${phrase(verb, verb.gerund, tag, total)}`;
    const run = await sendAll(bar.dataset.undoUrl, label, requests, total);
    const changed = run.results.reduce((sum, result) => sum + result.affected_count, 0);
    if (run.failure) {
      const undone = run.done ? `Undid ${phrase(verb, verb.gerund, tag, changed)}. ` : "";
      window.PMD.toast(`${undone}Could not undo the rest: ${run.failure.message}`, "error", 12000);
    } else if (requests.length === 1) {
      window.PMD.toast(run.results[0].message, "success");
    } else {
      const left = total - changed;
      const note = left ? ` ${plural(left)} had changed since and ${left === 1 ? "was" : "were"} left as ${left === 1 ? "it is" : "they are"}.` : "";
      window.PMD.toast(`Undid ${phrase(verb, verb.gerund, tag, changed)}.${note}`, "success");
    }
  }

  // The words for a run of several requests; one request's come from the server.
  function summary(action, tag, requested, results) {
    const verb = words[action];
    const changed = results.reduce((sum, result) => sum + result.affected_count, 0);
    const full = results.reduce((sum, result) => sum + result.full_ids.length, 0);
    const unchanged = requested - changed - full;
    if (verb.takes_hashtag) {
      const already = action === "add_hashtag" ? "already had it" : "did not have it";
      let text = `${phrase(verb, verb.past, tag, changed)}${unchanged ? ` (${number(unchanged)} ${already})` : ""}.`;
      if (full) {
        text += ` ${plural(full)} ${full === 1 ? "has" : "have"} no room for another hashtag, so #${tag} was not added to ${full === 1 ? "it" : "them"}.`;
      }
      return text;
    }
    const note = unchanged ? ` (${plural(unchanged)} needed no change)` : "";
    return `${plural(changed)} ${verb.done}${note}.`;
  }

  async function run(action, ids, { hashtag = null, license, keepSelection = false, firstRefused = null } = {}) {
    if (running || !ids.length) return null;
    const verb = words[action];
    const requests = [];
    for (let start = 0; start < ids.length; start += limit) {
      const chunk = ids.slice(start, start + limit);
      const body = hashtag === null ? { action, post_ids: chunk } : { action, post_ids: chunk, hashtag };
      // null clears the licence, so only set_license sends the field at all.
      if (license !== undefined) body.license = license;
      requests.push({ body, size: chunk.length, ids: chunk });
    }
    // The typed hashtag until the server says how it is stored ("#Pixel" → "pixel").
    let tag = hashtag === null ? null : hashtag.trim().replace(/^#/, "");
    const fullIds = [];
    const outcome = await sendAll(bar.dataset.actionUrl, phrase(verb, verb.doing, tag, ids.length), requests, ids.length, {
      firstRefused,
      afterEach: (result, request, index) => {
        tag = result.hashtag || tag;
        fullIds.push(...result.full_ids);
        if (index === 0 && hashtagDialog.open) hashtagDialog.close("done");
        // Posts without room for the hashtag stay selected, to deal with.
        if (!keepSelection) window.PMD.selection.remove(request.ids.filter((id) => !result.full_ids.includes(id)));
      },
    });
    if (outcome.refusedFirst) return outcome;
    const offered = { action, hashtag: tag, results: outcome.results };
    const stillSelected = fullIds.length && !keepSelection ? " They are still selected." : "";
    if (outcome.failure) {
      const succeeded = outcome.done ? `${phrase(verb, verb.past, tag, outcome.done)} of ${number(ids.length)}. ` : "";
      const rest = ids.length - outcome.done;
      offerUndo(
        `${succeeded}${plural(rest)} ${rest === 1 ? "was" : "were"} not ${verb.done}: ${outcome.failure.message}` +
          (keepSelection ? "" : " They are still selected."),
        "error",
        offered,
      );
    } else if (requests.length === 1) {
      // One request: the server's own words ("3 posts hidden (2 were already hidden).").
      offerUndo(outcome.results[0].message + stillSelected, "success", offered);
    } else {
      offerUndo(summary(action, tag, ids.length, outcome.results) + stillSelected, "success", offered);
    }
    return outcome;
  }

  // The dialog names what goes: "Delete 3 posts?", "Delete 3 posts forever?".
  function confirmDelete(count, title, action = "delete") {
    const dialog = action === "delete" ? confirmDialog : confirmForeverDialog;
    const forever = action === "delete" ? "" : " forever";
    dialog.querySelector("[data-confirm-text]").textContent = title
      ? `Delete “${title}”${forever}?`
      : `Delete ${plural(count)}${forever}?`;
    dialog.returnValue = "";
    window.PMD.openDialog(dialog, document.activeElement);
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === action), { once: true });
    });
  }

  // "Add hashtag…" / "Remove hashtag…": a small dialog asks for the hashtag;
  // it stays open until the server has accepted the first request, so its
  // refusal ("A hashtag takes letters, digits and _ only; '-' is not one.")
  // shows beside the field, and nothing has changed.
  const hashtagForm = hashtagDialog.querySelector("form");
  const hashtagInput = hashtagDialog.querySelector("[name=hashtag]");
  const hashtagError = hashtagDialog.querySelector("[data-hashtag-error]");
  const hashtagSubmit = hashtagDialog.querySelector("[data-hashtag-submit]");

  function showHashtagError(message) {
    hashtagError.textContent = message;
    hashtagError.hidden = !message;
    if (message) hashtagInput.setAttribute("aria-invalid", "true");
    else hashtagInput.removeAttribute("aria-invalid");
  }

  function askHashtag(action, count) {
    const adding = action === "add_hashtag";
    hashtagDialog.dataset.action = action;
    hashtagDialog.querySelector("[data-hashtag-title]").textContent = adding
      ? `Add a hashtag to ${plural(count)}`
      : `Remove a hashtag from ${plural(count)}`;
    hashtagSubmit.textContent = adding ? "Add" : "Remove";
    hashtagSubmit.disabled = false;
    showHashtagError("");
    window.PMD.openDialog(hashtagDialog, document.activeElement);
    hashtagInput.select();
  }

  hashtagDialog.querySelector("[data-hashtag-cancel]").addEventListener("click", () => hashtagDialog.close("cancel"));
  hashtagForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (running) return;
    showHashtagError("");
    hashtagSubmit.disabled = true;
    const ids = window.PMD.selection.ids();
    if (window.PMD.jobs?.wanted(ids.length)) {
      try {
        await window.PMD.jobs.start(hashtagDialog.dataset.action, ids, { hashtag: hashtagInput.value });
        hashtagDialog.close("done");
      } catch (error) {
        showHashtagError(error.message);
        hashtagInput.focus();
      }
      hashtagSubmit.disabled = false;
      return;
    }
    await run(hashtagDialog.dataset.action, ids, {
      hashtag: hashtagInput.value,
      firstRefused: (message) => {
        showHashtagError(message);
        hashtagInput.focus();
      },
    });
    hashtagSubmit.disabled = false;
  });

  // "Set licence…": one choice from the licences, "All rights reserved" clearing it.
  licenseDialog.querySelector("[data-license-cancel]").addEventListener("click", () => licenseDialog.close("cancel"));
  licenseDialog.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (running) return;
    const license = licenseDialog.querySelector("[name=license]").value || null;
    const ids = window.PMD.selection.ids();
    licenseDialog.close("apply");
    // Past a few chunks the server does it, as for the other actions.
    if (window.PMD.jobs?.wanted(ids.length)) {
      try {
        await window.PMD.jobs.start("set_license", ids, { license });
      } catch (error) {
        window.PMD.toast(error.message, "error");
      }
      return;
    }
    await run("set_license", ids, { license });
  });

  function askLicense(count) {
    licenseDialog.querySelector("[data-license-title]").textContent = `Set the licence of ${plural(count)}`;
    window.PMD.openDialog(licenseDialog, document.activeElement);
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
      button.hidden = !words[button.dataset.bulk].views.includes(view);
      button.disabled = Boolean(why);
    }
    reason.textContent = why;
  }

  bar.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-bulk]");
    if (!button || button.disabled) return;
    const action = button.dataset.bulk;
    const ids = window.PMD.selection.ids();
    if (words[action].takes_hashtag) {
      askHashtag(action, ids.length);
      return;
    }
    if (words[action].takes_license) {
      askLicense(ids.length);
      return;
    }
    // More than a few requests' worth: one job on the server, after its own dialog.
    if (window.PMD.jobs?.wanted(ids.length)) {
      window.PMD.jobs.ask(action, ids);
      return;
    }
    if (words[action].needs_confirmation && !(await confirmDelete(ids.length, "", action))) return;
    await run(action, ids);
  });

  // The eye and trash of one row act on that post alone and leave the selection be.
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-row-action]");
    if (!button) return;
    const row = button.closest("[data-post-id]");
    const action = button.dataset.rowAction;
    const title = row.querySelector(".col-title .truncate")?.textContent || "";
    if (action === "delete" && !(await confirmDelete(1, title))) return;
    await run(action, [Number(row.dataset.postId)]);
  });

  // `u` undoes while a toast offers it; never while typing or in a dialog
  // (the same rule as the table's keys in pmd-table.js).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "u" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable='true'], [contenteditable='']")) return;
    if (document.querySelector("dialog[open]") || !offer) return;
    event.preventDefault();
    offer.trigger();
  });

  window.PMD.selection.onChange(updateButtons);
  document.body.addEventListener("htmx:afterSettle", updateButtons);
  updateButtons();
})();
