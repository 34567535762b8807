// Saved views: "Save view" names the table's current search, filters, sort
// and page size (POST /api/pmd/views); "Manage views" renames, reorders and
// deletes them. The tabs and their counts are drawn by the server with the
// table, so after each change the table is fetched again.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  const saveDialog = document.getElementById("save-view-dialog");
  const manageDialog = document.getElementById("manage-views-dialog");
  if (!root || !saveDialog || !manageDialog) return;
  const url = saveDialog.dataset.viewsUrl;
  const nameInput = saveDialog.querySelector("#save-view-name");
  const saveError = saveDialog.querySelector("[data-view-error]");
  const list = manageDialog.querySelector("[data-views-list]");
  const manageError = manageDialog.querySelector("[data-manage-error]");

  function refreshTable() {
    return window.htmx.ajax("GET", `${location.pathname}${location.search}`, { target: "#post-table", swap: "outerHTML" });
  }

  function currentSettings() {
    const state = new URLSearchParams(document.getElementById("post-table")?.dataset.state || "");
    const settings = { q: state.get("q") || "" };
    for (const [name, key] of [["visibility", "visibility"], ["format", "format"], ["license", "license"], ["sort", "sort"], ["dir", "direction"]]) {
      if (state.get(name)) settings[key] = state.get(name);
    }
    if (state.get("size")) settings.size = Number(state.get("size"));
    if (state.get("sort") && !state.get("dir")) {
      // The table's reading of a sort without a direction: the header link's.
      settings.direction = ["title", "description", "format"].includes(state.get("sort")) ? "asc" : "desc";
    }
    return settings;
  }

  function showError(element, message) {
    element.textContent = message;
    element.hidden = !message;
  }

  saveDialog.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(saveError, "");
    nameInput.removeAttribute("aria-invalid");
    try {
      const view = await window.PMD.requestJson(url, { name: nameInput.value, ...currentSettings() });
      saveDialog.close();
      await refreshTable();
      window.PMD.toast(`Saved the view “${view.name}”.`, "info", 3500);
    } catch (error) {
      nameInput.setAttribute("aria-invalid", "true");
      showError(saveError, error.message);
      nameInput.focus();
    }
  });

  function row(view, index, count) {
    const item = document.createElement("li");
    item.className = "manage-view";
    item.dataset.viewId = String(view.id);
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `view-name-${view.id}`;
    label.textContent = `Name of view ${index + 1}`;
    const input = document.createElement("input");
    input.type = "text";
    input.id = `view-name-${view.id}`;
    input.value = view.name;
    input.maxLength = 60;
    input.dataset.viewName = "";
    const count_ = document.createElement("span");
    count_.className = "muted facet-count";
    count_.textContent = view.count === null ? "—" : view.count.toLocaleString("en");
    const buttons = [
      ["rename", "Rename", `Rename view “${view.name}”`],
      ["up", "↑", `Move “${view.name}” up`],
      ["down", "↓", `Move “${view.name}” down`],
      ["delete", "Delete", `Delete view “${view.name}”`],
    ].map(([action, text, name]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = action === "delete" ? "button button-danger" : "button";
      button.dataset.viewAction = action;
      button.setAttribute("aria-label", name);
      button.textContent = text;
      if ((action === "up" && index === 0) || (action === "down" && index === count - 1)) button.disabled = true;
      return button;
    });
    item.append(label, input, count_, ...buttons);
    return item;
  }

  async function loadList(focusId, focusAction) {
    const data = await window.PMD.requestJson(url);
    list.replaceChildren(...data.items.map((view, index) => row(view, index, data.items.length)));
    if (focusId) {
      const item = list.querySelector(`[data-view-id="${focusId}"]`);
      const target = item?.querySelector(`[data-view-action="${focusAction}"]:not([disabled])`) || item?.querySelector("input");
      target?.focus();
    }
    return data.items;
  }

  async function act(action, item) {
    showError(manageError, "");
    const id = Number(item.dataset.viewId);
    const ids = [...list.querySelectorAll("[data-view-id]")].map((element) => Number(element.dataset.viewId));
    try {
      if (action === "rename") {
        await window.PMD.requestJson(`${url}/${id}`, { name: item.querySelector("input").value }, "PATCH");
      } else if (action === "delete") {
        await window.PMD.requestJson(`${url}/${id}`, undefined, "DELETE");
      } else {
        const at = ids.indexOf(id);
        const to = action === "up" ? at - 1 : at + 1;
        [ids[at], ids[to]] = [ids[to], ids[at]];
        await window.PMD.requestJson(`${url}/order`, { ids });
      }
      const items = await loadList(action === "delete" ? null : id, action);
      await refreshTable();
      if (action === "delete") (list.querySelector("input") || manageDialog.querySelector("[data-dialog-cancel]")).focus();
      if (!items.length) manageDialog.close();
    } catch (error) {
      showError(manageError, error.message);
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-view-action]");
    if (button) act(button.dataset.viewAction, button.closest("[data-view-id]"));
  });
  list.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("[data-view-name]")) {
      event.preventDefault();
      act("rename", event.target.closest("[data-view-id]"));
    }
  });

  for (const dialog of [saveDialog, manageDialog]) {
    dialog.querySelector("[data-dialog-cancel]").addEventListener("click", () => dialog.close());
  }

  root.addEventListener("click", async (event) => {
    if (event.target.closest("[data-save-view]")) {
      nameInput.value = "";
      nameInput.removeAttribute("aria-invalid");
      showError(saveError, "");
      window.PMD.openDialog(saveDialog, event.target.closest("button"));
      nameInput.focus();
    } else if (event.target.closest("[data-manage-views]")) {
      const opener = event.target.closest("button");
      showError(manageError, "");
      try {
        await loadList();
        window.PMD.openDialog(manageDialog, opener);
        list.querySelector("input")?.focus();
      } catch (error) {
        window.PMD.toast(error.message, "error");
      }
    }
  });
})();
