// The hashtag manager panel: the owner's hashtags with their post counts
// (GET /api/pmd/hashtags, read when the panel is opened and after each
// change), sortable by name and by count in the page; Rename… (a merge when
// the new name exists), Remove… and the suggested merges of near-duplicates.
// The dialog says how many posts will change before anything is written; the
// toast after offers Undo (POST /api/pmd/action/undo).
(() => {
  "use strict";
  const panel = document.querySelector("[data-hashtag-panel]");
  const dialog = document.getElementById("hashtag-manager-dialog");
  if (!panel || !dialog) return;

  const rowsBody = panel.querySelector("[data-hashtag-rows]");
  const loadButton = panel.querySelector("[data-hashtags-load]");
  const body = panel.querySelector("[data-hashtags-body]");
  const toInput = dialog.querySelector("[name=to]");
  const errorLine = dialog.querySelector("[data-manager-error]");
  let items = [];
  let sort = { key: "count", dir: "desc" };
  let pending = null; // {mode: "rename"|"remove", hashtag, count}

  const plural = (count) => `${count.toLocaleString("en")} post${count === 1 ? "" : "s"}`;

  async function load() {
    const answer = await window.PMD.requestJson(panel.dataset.listUrl);
    items = answer.items;
    render();
    renderSuggestions(answer.suggestions);
  }

  function sorted() {
    const factor = sort.dir === "asc" ? 1 : -1;
    return [...items].sort((a, b) => {
      const primary = sort.key === "count" ? a.count - b.count : a.hashtag.localeCompare(b.hashtag);
      return factor * primary || a.hashtag.localeCompare(b.hashtag);
    });
  }

  function button(label, ariaLabel, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "button";
    element.textContent = label;
    element.setAttribute("aria-label", ariaLabel);
    element.setAttribute("aria-haspopup", "dialog");
    element.addEventListener("click", onClick);
    return element;
  }

  function render() {
    for (const th of panel.querySelectorAll("th[data-sort-key]")) {
      const active = th.dataset.sortKey === sort.key;
      th.setAttribute("aria-sort", active ? (sort.dir === "asc" ? "ascending" : "descending") : "none");
      th.querySelector(".sort-arrow").textContent = active ? (sort.dir === "asc" ? "▲" : "▼") : "";
    }
    const rows = sorted().map((item) => {
      const row = document.createElement("tr");
      row.dataset.hashtag = item.hashtag;
      row.insertCell().textContent = `#${item.hashtag}`;
      row.insertCell().textContent = item.count.toLocaleString("en");
      const actions = row.insertCell();
      actions.append(
        button("Rename…", `Rename #${item.hashtag}`, () => ask("rename", item)),
        " ",
        button("Remove…", `Remove #${item.hashtag} from every post`, () => ask("remove", item)),
      );
      return row;
    });
    if (!rows.length) {
      const row = document.createElement("tr");
      const cell = row.insertCell();
      cell.colSpan = 3;
      cell.textContent = "No hashtags on your posts yet.";
      rows.push(row);
    }
    rowsBody.replaceChildren(...rows);
  }

  function renderSuggestions(suggestions) {
    const box = panel.querySelector("[data-hashtag-suggestions]");
    if (!suggestions.length) {
      box.replaceChildren();
      return;
    }
    const heading = document.createElement("p");
    heading.textContent = "Probably the same tag spelt two ways:";
    const list = document.createElement("ul");
    list.className = "hashtag-suggestions";
    for (const suggestion of suggestions) {
      const item = items.find((entry) => entry.hashtag === suggestion.hashtag);
      const li = document.createElement("li");
      li.append(`#${suggestion.hashtag} → #${suggestion.into} (${suggestion.reason}) `);
      li.append(button("Merge…", `Merge #${suggestion.hashtag} into #${suggestion.into}`, () => ask("rename", item, suggestion.into)));
      list.append(li);
    }
    box.replaceChildren(heading, list);
  }

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  function preview() {
    if (!pending) return;
    const text = pending.mode === "remove"
      ? `#${pending.hashtag} will be removed from ${plural(pending.count)}.`
      : (() => {
          const to = toInput.value.trim().replace(/^#/, "").toLowerCase();
          const exists = items.find((item) => item.hashtag === to && to !== pending.hashtag);
          return exists
            ? `${plural(pending.count)} will change: #${pending.hashtag} merges into #${to} (on ${plural(exists.count)} already).`
            : `${plural(pending.count)} will change.`;
        })();
    dialog.querySelector("[data-manager-preview]").textContent = text;
  }

  function ask(mode, item, into = "") {
    pending = { mode, hashtag: item.hashtag, count: item.count };
    const renaming = mode === "rename";
    dialog.querySelector("[data-manager-title]").textContent = renaming
      ? (into ? `Merge #${item.hashtag} into #${into}` : `Rename #${item.hashtag}`)
      : `Remove #${item.hashtag} from every post`;
    dialog.querySelector("[data-manager-rename]").hidden = !renaming;
    dialog.querySelector("[data-manager-submit]").textContent = renaming ? (into ? "Merge" : "Rename") : "Remove";
    toInput.value = into;
    showError("");
    preview();
    window.PMD.openDialog(dialog, document.activeElement);
    if (renaming) toInput.focus();
  }

  async function submit(event) {
    event.preventDefault();
    if (!pending) return;
    const renaming = pending.mode === "rename";
    const url = renaming ? panel.dataset.renameUrl : panel.dataset.removeUrl;
    const payload = renaming ? { hashtag: pending.hashtag, to: toInput.value } : { hashtag: pending.hashtag };
    let result;
    try {
      result = await window.PMD.requestJson(url, payload);
    } catch (error) {
      showError(error.message);
      return;
    }
    dialog.close("done");
    await afterChange();
    const shown = window.PMD.toast(result.message, "success", 15000, {
      label: "Undo",
      onClick: async () => {
        shown.dismiss();
        try {
          const undone = await window.PMD.requestJson(panel.dataset.undoUrl, { activity_id: result.activity_id });
          window.PMD.toast(undone.message, "success");
        } catch (error) {
          window.PMD.toast(error.message, "error", 12000);
        }
        await afterChange();
      },
    });
  }

  async function afterChange() {
    await load();
    if (window.htmx) await window.htmx.ajax("GET", window.location.href, { target: "#post-table", swap: "outerHTML" });
    document.body.dispatchEvent(new CustomEvent("pmd:acted"));
  }

  loadButton.addEventListener("click", async () => {
    const opening = body.hidden;
    body.hidden = !opening;
    loadButton.setAttribute("aria-expanded", String(opening));
    loadButton.textContent = opening ? "Hide hashtags" : "Show hashtags";
    if (opening) {
      try {
        await load();
      } catch (error) {
        window.PMD.toast(error.message, "error", 12000);
      }
    }
  });
  panel.addEventListener("click", (event) => {
    const header = event.target.closest("[data-hashtag-sort]");
    if (!header) return;
    const key = header.dataset.hashtagSort;
    sort = sort.key === key ? { key, dir: sort.dir === "asc" ? "desc" : "asc" } : { key, dir: key === "count" ? "desc" : "asc" };
    render();
  });
  toInput.addEventListener("input", preview);
  dialog.querySelector("form").addEventListener("submit", submit);
  dialog.querySelector("[data-manager-cancel]").addEventListener("click", () => dialog.close("cancel"));
})();
