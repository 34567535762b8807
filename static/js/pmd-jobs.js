// Jobs: a batch action over more posts than a few requests hold (more than
// data-job-threshold) goes to the server as one job (POST /api/pmd/jobs),
// which works through them without the page. The dialog names the fixed
// count first. Progress comes from the job_update events of the page's
// event stream, so every open tab of the owner's shows it, with Cancel
// while it runs and Undo (a job of its own) once it is done.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  const bar = document.querySelector("[data-bulk-actions]");
  const region = document.querySelector("[data-job-status]");
  const events = document.querySelector("[data-job-events]");
  const dialog = document.getElementById("job-dialog");
  if (!root || !bar || !region || !dialog || !window.PMD) return;

  const jobsUrl = region.dataset.jobsUrl;
  // Each action's words, as the registry has them (pmd-actions.js reads the same).
  const words = JSON.parse(document.getElementById("action-words").textContent);
  const FINISHED = ["done", "cancelled", "failed"];
  let current = null; // the job shown
  const mine = new Set(); // jobs this tab asked for: their end clears the selection
  const announced = new Set();

  const number = (count) => count.toLocaleString("en");
  const plural = (count) => `${number(count)} post${count === 1 ? "" : "s"}`;

  function wanted(count) {
    return count > (Number(bar.dataset.jobThreshold) || 512);
  }

  // "Hiding 10,000 posts", "Adding #pixel to 10,000 posts", "Undoing hiding 10,000 posts".
  function doing(item) {
    // An undo runs the inverse: the undo of a hide is an unhide.
    if (item.undo_of) return `Undoing ${words[inverseOf(item.action)]?.gerund || "an action on"} ${plural(item.total)}`;
    const verb = words[item.action] || { doing: item.action };
    const tag = item.hashtag ? ` #${item.hashtag} ${verb.to}` : "";
    return `${verb.doing}${tag} ${plural(item.total)}`;
  }
  function inverseOf(action) {
    return words[action]?.inverse;
  }

  function show(item) {
    current = item;
    region.hidden = false;
    const finished = FINISHED.includes(item.status);
    const worked = item.done + item.skipped + item.failed;
    const meter = region.querySelector("[role=progressbar]");
    meter.setAttribute("aria-valuemax", String(item.total));
    meter.setAttribute("aria-valuenow", String(worked));
    meter.querySelector("span").style.width = `${item.total ? (100 * worked) / item.total : 0}%`;
    let text;
    if (finished) text = item.message;
    else if (item.cancel_requested) text = `${doing(item)}… ${number(worked)}/${number(item.total)}, stopping after this chunk`;
    else if (item.status === "queued") text = `${doing(item)}: waiting for the server…`;
    else text = `${doing(item)}… ${number(worked)}/${number(item.total)}`;
    region.querySelector("[data-job-text]").textContent = text;
    region.classList.toggle("is-finished", finished);
    region.querySelector("[data-job-cancel]").hidden = finished;
    region.querySelector("[data-job-cancel]").disabled = Boolean(item.cancel_requested);
    region.querySelector("[data-job-undo]").hidden = !(finished && item.undoable);
    region.querySelector("[data-job-dismiss]").hidden = !finished;
  }

  async function finishedNow(item) {
    if (announced.has(item.id)) return;
    announced.add(item.id);
    if (mine.has(item.id) && item.status === "done") window.PMD.selection.remove(window.PMD.selection.ids());
    const table = document.getElementById("post-table");
    if (table && window.htmx) await window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
    document.body.dispatchEvent(new CustomEvent("pmd:acted"));
    const kind = { done: "success", cancelled: "info" }[item.status] || "error";
    window.PMD.toast(item.message, kind, kind === "error" ? 12000 : 8000);
  }

  function update(item) {
    // A finished job never hides one still running.
    if (current && current.id !== item.id && !FINISHED.includes(current.status) && FINISHED.includes(item.status)) return;
    show(item);
    if (FINISHED.includes(item.status)) finishedNow(item);
  }

  // `license`: set_license's licence, null clearing it (only it sends the field).
  async function start(action, ids, { hashtag = null, license } = {}) {
    const filters = window.PMD.selection.matching?.();
    const body = { action };
    if (filters) body.filters = filters;
    else body.post_ids = ids;
    if (hashtag !== null) body.hashtag = hashtag;
    if (license !== undefined) body.license = license;
    const job = await window.PMD.requestJson(jobsUrl, body);
    mine.add(job.id);
    update({ id: job.id, action, hashtag: hashtag && hashtag.replace(/^#/, "").toLowerCase(), status: "queued", total: job.total, done: 0, changed: 0, skipped: 0, failed: 0, cancel_requested: false, undo_of: null, undoable: false, message: "" });
    return job;
  }

  // The dialog names the count; it stays open until the server has taken the
  // job, so a refusal (another job still running) shows in it.
  function ask(action, ids) {
    const verb = words[action];
    dialog.querySelector("[data-job-title]").textContent = `${verb.label} ${plural(ids.length)}?`;
    const notes = {
      delete: `They leave your profile and can be restored from “Recently deleted” for ${dialog.dataset.restoreDays} days.`,
      delete_forever: "Their files, comments and reactions go too. This cannot be undone.",
    };
    dialog.querySelector("[data-job-note]").textContent =
      `${notes[action] || ""} The server does this in the background: you can leave this page, and its progress shows here and in your other tabs.`.trim();
    const startButton = dialog.querySelector("[data-job-start]");
    startButton.textContent = `${verb.label} ${plural(ids.length)}`;
    startButton.className = `button ${verb.serious ? "button-danger" : "button-primary"}`;
    startButton.disabled = false;
    showError("");
    dialog.dataset.action = action;
    window.PMD.openDialog(dialog, document.activeElement);
  }

  function showError(message) {
    const error = dialog.querySelector("[data-job-error]");
    error.textContent = message;
    error.hidden = !message;
  }

  dialog.querySelector("[data-job-dialog-cancel]").addEventListener("click", () => dialog.close("cancel"));
  dialog.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const startButton = dialog.querySelector("[data-job-start]");
    startButton.disabled = true;
    try {
      await start(dialog.dataset.action, window.PMD.selection.ids());
      dialog.close("start");
    } catch (error) {
      showError(error.message);
      startButton.disabled = false;
    }
  });

  region.addEventListener("click", async (event) => {
    if (!current) return;
    const button = event.target.closest("button");
    if (!button) return;
    try {
      if (button.matches("[data-job-cancel]")) {
        button.disabled = true;
        show(await window.PMD.requestJson(`${jobsUrl}/${current.id}/cancel`, {}));
      } else if (button.matches("[data-job-undo]")) {
        button.hidden = true;
        const job = await window.PMD.requestJson(`${jobsUrl}/${current.id}/undo`, {});
        mine.add(job.id);
        update({ ...current, id: job.id, undo_of: current.id, action: inverseOf(current.action), status: "queued", total: job.total, done: 0, changed: 0, skipped: 0, failed: 0, undoable: false, message: "" });
      } else if (button.matches("[data-job-dismiss]")) {
        region.hidden = true;
        document.querySelector("#post-table [data-table-focus]")?.focus();
      }
    } catch (error) {
      window.PMD.toast(error.message, "error", 12000);
      if (current) show(current);
    }
  });

  events?.addEventListener("htmx:sseMessage", (event) => {
    if (event.detail?.type !== "job_update") return;
    try {
      update(JSON.parse(event.detail.data));
    } catch (_) { /* not JSON */ }
  });

  // On load and on every (re)connection of the stream: the job running now,
  // if any, whatever happened while this page was not listening.
  async function snapshot() {
    try {
      const { items } = await window.PMD.requestJson(jobsUrl);
      const running = items.find((item) => !FINISHED.includes(item.status));
      if (running) update(running);
      else if (current && !FINISHED.includes(current.status)) {
        const latest = items.find((item) => item.id === current.id);
        if (latest) update(latest);
      }
    } catch (_) { /* the stream's own indicator says the server is away */ }
  }
  document.querySelector("[data-live]")?.addEventListener("htmx:sseOpen", snapshot);
  snapshot();

  window.PMD.jobs = { wanted, ask, start };
})();
