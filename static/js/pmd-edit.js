// The "Edit…" dialog: titles, descriptions and the licence of the selection.
// Opening it asks the server for the selection's current values (512 ids a
// request), so each field says what it holds, or "Mixed" when the posts
// differ; a field left at "Keep" is never sent, so never written. Preview
// sends the edit 128 ids a request to POST /api/pmd/edit/preview (nothing is
// written) and shows the counts, the reasons of posts that cannot take it and
// the first 50 changes. Apply sends each request again with its preview's
// token to POST /api/pmd/edit, which skips posts edited since; the toast
// offers Undo, one POST /api/pmd/action/undo per request.
(() => {
  "use strict";
  const dialog = document.getElementById("edit-dialog");
  const bar = document.querySelector("[data-bulk-actions]");
  if (!dialog || !bar) return;

  const limit = Number(bar.dataset.actionLimit) || 128;
  const readLimit = Number(dialog.dataset.listLimit) || 512;
  const output = dialog.querySelector("[data-edit-preview]");
  const applyButton = dialog.querySelector("[data-edit-apply]");
  const previewButton = dialog.querySelector("[data-edit-preview-button]");
  const SAMPLES = 50;
  const UNDO_MS = 15000;
  let ids = [];
  let previewed = null; // {body, chunks: [{ids, token}], changed}
  let busy = false;

  const number = (count) => count.toLocaleString("en");
  const plural = (count) => `${number(count)} post${count === 1 ? "" : "s"}`;
  const chunks = (list, size) => {
    const out = [];
    for (let start = 0; start < list.length; start += size) out.push(list.slice(start, start + size));
    return out;
  };

  function fieldBox(name) {
    return dialog.querySelector(`[data-edit-field="${name}"]`);
  }

  // Which inputs an operation needs: find for the replaces, text for all.
  function showInputs(box) {
    const op = box.querySelector("[data-edit-op]").value;
    box.querySelector("[data-edit-find]").hidden = !(op === "replace" || op === "regex");
    box.querySelector("[data-edit-case]").hidden = !(op === "replace" || op === "regex");
    box.querySelector("[data-edit-value]").hidden = !op;
    box.querySelector("[data-edit-value-label]").textContent =
      op === "replace" || op === "regex" ? "Replace with" : op === "set" ? "New text" : "Text to add";
  }

  // The edit as the API takes it; fields at "Keep" are left out.
  function editBody() {
    const body = {};
    for (const name of ["title", "description"]) {
      const box = fieldBox(name);
      const op = box.querySelector("[data-edit-op]").value;
      if (!op) continue;
      const edit = { op, value: box.querySelector(`[name="${name}-value"]`).value };
      if (op === "replace" || op === "regex") {
        edit.find = box.querySelector(`[name="${name}-find"]`).value;
        edit.ignore_case = !box.querySelector(`[name="${name}-case"]`).checked;
      }
      body[name] = edit;
    }
    const license = dialog.querySelector("[data-edit-license]").value;
    if (license !== "keep") body.license = license || null;
    return body;
  }

  function say(nodes) {
    output.replaceChildren(...nodes);
  }

  function paragraph(text, className = "") {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }

  function invalidate() {
    previewed = null;
    applyButton.disabled = true;
  }

  async function loadCurrent() {
    const merged = {};
    for (const part of chunks(ids, readLimit)) {
      const now = await window.PMD.requestJson(dialog.dataset.currentUrl, { post_ids: part });
      for (const [name, field] of Object.entries(now)) {
        const seen = merged[name];
        merged[name] = seen
          ? { value: seen.value, mixed: seen.mixed || field.mixed || seen.value !== field.value }
          : field;
      }
    }
    for (const [name, field] of Object.entries(merged)) {
      const label = fieldBox(name).querySelector("[data-edit-now]");
      const shown = name === "license" ? field.value || "all rights reserved" : field.value;
      label.textContent = field.mixed ? "(Mixed)" : `(now: “${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}”)`;
    }
  }

  async function open() {
    ids = window.PMD.selection.ids();
    if (!ids.length) return;
    dialog.querySelector("form").reset();
    for (const name of ["title", "description"]) showInputs(fieldBox(name));
    for (const label of dialog.querySelectorAll("[data-edit-now]")) label.textContent = "";
    dialog.querySelector("[data-edit-title]").textContent = `Edit ${plural(ids.length)}`;
    invalidate();
    say([paragraph("Choose what to change, then Preview.", "muted")]);
    window.PMD.openDialog(dialog, document.activeElement);
    try {
      await loadCurrent();
    } catch (error) {
      say([paragraph(error.message, "field-error")]);
    }
  }

  function samplesTable(samples) {
    const table = document.createElement("table");
    table.className = "edit-samples";
    const caption = document.createElement("caption");
    caption.textContent = `First ${number(samples.length)} change${samples.length === 1 ? "" : "s"}`;
    table.append(caption);
    const head = table.createTHead().insertRow();
    for (const label of ["Field", "Before", "After"]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = label;
      head.append(th);
    }
    const body = table.createTBody();
    for (const sample of samples) {
      const row = body.insertRow();
      for (const text of [sample.field, sample.before ?? "(none)", sample.after ?? "(none)"]) {
        row.insertCell().textContent = text;
      }
    }
    return table;
  }

  async function preview() {
    if (busy) return;
    const body = editBody();
    if (!Object.keys(body).length) {
      say([paragraph("Nothing to change: every field says Keep.", "field-error")]);
      return;
    }
    busy = true;
    previewButton.disabled = true;
    const result = { chunks: [], changed: 0, unchanged: 0, invalid: [], samples: [] };
    try {
      const parts = chunks(ids, limit);
      for (const [index, part] of parts.entries()) {
        say([paragraph(`Previewing… ${number(index * limit)}/${number(ids.length)}`)]);
        const answer = await window.PMD.requestJson(dialog.dataset.previewUrl, { ...body, post_ids: part });
        result.chunks.push({ ids: part, token: answer.token });
        result.changed += answer.changed;
        result.unchanged += answer.unchanged;
        result.invalid.push(...answer.invalid);
        if (result.samples.length < SAMPLES) result.samples.push(...answer.samples.slice(0, SAMPLES - result.samples.length));
      }
    } catch (error) {
      say([paragraph(error.message, "field-error")]);
      busy = false;
      previewButton.disabled = false;
      return;
    }
    busy = false;
    previewButton.disabled = false;
    previewed = { body, ...result };
    const nodes = [
      paragraph(
        `${plural(result.changed)} would change, ${number(result.unchanged)} stay the same, ` +
          `${number(result.invalid.length)} cannot take this edit.`,
      ),
    ];
    if (result.invalid.length) {
      const list = document.createElement("ul");
      list.className = "edit-invalid";
      for (const item of result.invalid.slice(0, 5)) {
        const li = document.createElement("li");
        li.textContent = `Post ${item.id}: ${item.reason}`;
        list.append(li);
      }
      nodes.push(list);
    }
    if (result.samples.length) nodes.push(samplesTable(result.samples));
    say(nodes);
    applyButton.disabled = !result.changed;
  }

  async function apply() {
    if (busy || !previewed) return;
    busy = true;
    applyButton.disabled = true;
    previewButton.disabled = true;
    const run = previewed;
    const results = [];
    let failure = null;
    await window.PMD.holdPage(async () => {
      for (const [index, chunk] of run.chunks.entries()) {
        say([paragraph(`Applying… ${number(index * limit)}/${number(ids.length)}`)]);
        try {
          results.push(
            await window.PMD.requestJson(dialog.dataset.applyUrl, { ...run.body, post_ids: chunk.ids, token: chunk.token }),
          );
        } catch (error) {
          failure = error;
          break;
        }
      }
    });
    busy = false;
    previewButton.disabled = false;
    dialog.close("apply");
    const changed = results.reduce((sum, result) => sum + result.affected_count, 0);
    const skipped = results.reduce((sum, result) => sum + result.skipped.length, 0);
    const done = results.flatMap((result) => result.changed_ids);
    window.PMD.selection.remove(results.flatMap((result, index) => run.chunks[index].ids));
    if (results.length && window.htmx) {
      await window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
    }
    document.body.dispatchEvent(new CustomEvent("pmd:acted"));
    let message = `${plural(changed)} edited.`;
    if (skipped) message += ` ${plural(skipped)} skipped (changed since the preview, or could not take the edit).`;
    if (failure) message += ` The rest were not edited: ${failure.message} They are still selected.`;
    offerUndo(message, failure ? "error" : "success", done.length ? results.filter((result) => result.changed_ids.length) : []);
  }

  function offerUndo(message, kind, entries) {
    if (!entries.length) {
      window.PMD.toast(message, kind, 8000);
      return;
    }
    let used = false;
    const shown = window.PMD.toast(message, kind, UNDO_MS, {
      label: "Undo",
      onClick: async () => {
        if (used) return;
        used = true;
        shown.dismiss();
        let undone = 0;
        try {
          for (const entry of entries) {
            const result = await window.PMD.requestJson(dialog.dataset.undoUrl, { activity_id: entry.activity_id });
            undone += result.affected_count;
          }
          window.PMD.toast(`Undid editing ${plural(undone)}.`, "success");
        } catch (error) {
          window.PMD.toast(`Undid editing ${plural(undone)}; could not undo the rest: ${error.message}`, "error", 12000);
        }
        if (window.htmx) await window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
        document.body.dispatchEvent(new CustomEvent("pmd:acted"));
      },
    });
  }

  dialog.addEventListener("change", (event) => {
    const box = event.target.closest("[data-edit-field]");
    if (box && event.target.matches("[data-edit-op]")) showInputs(box);
    invalidate();
  });
  dialog.addEventListener("input", invalidate);
  dialog.querySelector("[data-edit-cancel]").addEventListener("click", () => dialog.close("cancel"));
  previewButton.addEventListener("click", preview);
  applyButton.addEventListener("click", apply);
  // Enter in a field previews; Apply is always a deliberate click.
  dialog.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    preview();
  });

  // Not one of the registry's batch actions: enabled and shown here, as
  // pmd-actions.js does for those (posts view only, something selected).
  const openButton = bar.querySelector("[data-edit-open]");
  function updateButton() {
    const view = document.getElementById("post-table")?.dataset.view || "live";
    openButton.hidden = view !== "live";
    openButton.disabled = busy || !window.PMD.selection.ids().length;
  }
  openButton.addEventListener("click", () => {
    if (!openButton.disabled) open();
  });
  window.PMD.selection.onChange(updateButton);
  document.body.addEventListener("htmx:afterSettle", updateButton);
  updateButton();
})();
