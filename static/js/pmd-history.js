// Undo from Recent activity: each line that can still be undone (for
// PMD_UNDO_DAYS) has "Undo…", which first counts what the undo would change
// back and what it would leave because it changed since
// (POST /api/pmd/action/undo-preview). A job is undone by a job of its own
// (its progress shows as any job's); a run of the page's requests by one
// undo per request, as the toast's Undo does.
(() => {
  "use strict";
  const dialog = document.getElementById("undo-dialog");
  if (!dialog || !window.PMD) return;
  const title = dialog.querySelector("[data-undo-title]");
  const preview = dialog.querySelector("[data-undo-preview]");
  const confirm = dialog.querySelector("[data-undo-confirm]");
  let chosen = null; // {ids, job, text}

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-undo-run]");
    if (!button) return;
    chosen = {
      ids: button.dataset.activityIds.split(",").map(Number),
      job: button.dataset.job || null,
      text: button.getAttribute("aria-label").replace(/^Undo: /, ""),
    };
    title.textContent = `Undo “${chosen.text}”?`;
    preview.textContent = "Counting…";
    confirm.disabled = true;
    window.PMD.openDialog(dialog, button);
    try {
      const counted = await window.PMD.requestJson(dialog.dataset.previewUrl, { activity_ids: chosen.ids });
      preview.textContent = counted.message;
      confirm.disabled = counted.changes === 0;
    } catch (error) {
      preview.textContent = error.message;
    }
  });

  dialog.querySelector("[data-undo-cancel]").addEventListener("click", () => dialog.close("cancel"));
  dialog.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!chosen) return;
    confirm.disabled = true;
    try {
      if (chosen.job) {
        await window.PMD.requestJson(`${dialog.dataset.jobsUrl}/${chosen.job}/undo`, {});
        dialog.close("undo");
        window.PMD.toast(`Undoing “${chosen.text}” on the server…`, "info", 4000);
        return;
      }
      const results = [];
      for (const id of chosen.ids) {
        results.push(await window.PMD.requestJson(dialog.dataset.undoUrl, { activity_id: id }));
      }
      dialog.close("undo");
      const changed = results.reduce((sum, result) => sum + result.affected_count, 0);
      const message = results.length === 1 ? results[0].message : `Undid “${chosen.text}”: ${changed.toLocaleString("en")} post${changed === 1 ? "" : "s"} changed back.`;
      window.PMD.toast(message, "success");
    } catch (error) {
      preview.textContent = error.message;
      return;
    } finally {
      confirm.disabled = false;
    }
    const table = document.getElementById("post-table");
    if (table && window.htmx) await window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
    document.body.dispatchEvent(new CustomEvent("pmd:acted"));
  });
})();
