// The dashboard table: selection (rows, ranges, page, all matching posts),
// kept in sessionStorage: it survives paging, sorting, filtering and reloads
// of its tab, and two tabs keep a selection each; keyboard shortcuts; where
// focus goes after a dialog or a swap; and the warning before a tab with a
// run in progress is closed. The table itself is server-rendered and swapped
// by htmx.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  if (!root) return;

  // One selection per view: posts picked under "Recently deleted" are not
  // mixed with live ones (they take different actions).
  const currentView = () => document.getElementById("post-table")?.dataset.view || "live";
  let view = currentView();
  const storageKey = () => `pmd:selection:${root.dataset.owner}${view === "live" ? "" : `:${view}`}`;
  const selection = new Set(load());
  const listeners = [];
  let anchorId = null; // the last row toggled: one end of a Shift range
  let selectingAll = false;
  // The table state whose every match is the selection, right after "Select
  // all": a job then takes the same filters rather than the ids.
  let matching = null;

  // Selections were once kept in localStorage, shared by every tab: gone.
  try {
    for (const suffix of ["", ":deleted"]) localStorage.removeItem(`pmd:selection:${root.dataset.owner}${suffix}`);
  } catch (_) { /* storage unavailable */ }

  function load() {
    try {
      const ids = JSON.parse(sessionStorage.getItem(storageKey()));
      return Array.isArray(ids) ? ids.filter(Number.isInteger) : [];
    } catch (_) {
      return [];
    }
  }
  function save() {
    try {
      sessionStorage.setItem(storageKey(), JSON.stringify([...selection]));
    } catch (_) { /* private mode or full: the selection still works for this page */ }
  }

  // A post of the page: a table row, or a tile of the grid.
  const ITEM = "#post-table [data-post-item]";
  const rows = () => [...document.querySelectorAll(ITEM)];
  const idOf = (row) => Number(row.dataset.postId);
  const pageIds = () => rows().map(idOf);

  function render() {
    const all = rows();
    let onPage = 0;
    for (const row of all) {
      const on = selection.has(idOf(row));
      onPage += on;
      row.classList.toggle("is-selected", on);
      // A grid's tiles are list items, which take no aria-selected: their checkbox says it.
      if (row.tagName === "TR") row.setAttribute("aria-selected", String(on));
      const box = row.querySelector("[data-select-row]");
      if (box) box.checked = on;
    }
    const header = document.querySelector("[data-select-page]");
    if (header) {
      header.checked = all.length > 0 && onPage === all.length;
      header.indeterminate = onPage > 0 && onPage < all.length;
    }
    for (const count of root.querySelectorAll("[data-selected-count], [data-selected-count-copy]")) {
      count.textContent = selection.size.toLocaleString("en");
    }
    showSelectionBar(selection.size > 0);
    const badge = (name) => root.querySelector(`[data-select="${name}"]`);
    badge("page").disabled = all.length === 0 || onPage === all.length;
    badge("unpage").disabled = onPage === 0;
    badge("none").disabled = selection.size === 0;
    badge("all").disabled = selectingAll || Number(document.getElementById("post-table")?.dataset.total || 0) === 0;
    for (const listener of listeners) listener(selection);
  }

  // On a phone the action bar is fixed to the bottom of the screen while
  // posts are selected (pmd.css): the page gets room below its last card, as
  // much as the bar is tall, so the bar never covers it.
  function showSelectionBar(selected) {
    const bar = root.querySelector("[data-selection-bar]");
    if (!bar) return;
    bar.classList.toggle("has-selection", selected);
    const actions = bar.querySelector("[data-action-bar]");
    const fixed = actions && getComputedStyle(actions).position === "fixed";
    root.style.paddingBottom = fixed ? `${actions.offsetHeight + 16}px` : "";
  }

  function setSelected(ids, on) {
    matching = null;
    for (const id of ids) {
      if (on) selection.add(id);
      else selection.delete(id);
    }
    save();
    render();
  }

  function toggle(row, extend) {
    const all = rows();
    const index = all.indexOf(row);
    const on = !selection.has(idOf(row));
    const anchor = all.findIndex((r) => idOf(r) === anchorId);
    if (extend && anchor !== -1 && index !== -1) {
      const [low, high] = anchor < index ? [anchor, index] : [index, anchor];
      // The range takes the state the clicked row is switching to, as in mail clients.
      setSelected(all.slice(low, high + 1).map(idOf), on);
    } else {
      setSelected([idOf(row)], on);
    }
    anchorId = idOf(row);
  }

  // Every post the table's search and filters match, or, with `search`, those
  // of that search instead (a month of the timeline: the search and its dates).
  async function selectAllMatching(button, search = null) {
    const table = document.getElementById("post-table");
    const progress = root.querySelector("[data-select-progress]");
    const label = button.closest("[data-month]")?.querySelector(".month-label")?.textContent;
    let total = Number(table.dataset.total);
    const limit = Number(root.dataset.pageLimit) || 512;
    let cursor = null;
    let fetched = 0;
    selectingAll = true;
    button.disabled = true;
    progress.hidden = false;
    progress.textContent = `Selecting… 0 / ${total.toLocaleString("en")}`;
    try {
      do {
        const params = new URLSearchParams(table.dataset.state);
        if (search !== null) params.set("q", search);
        params.set("limit", String(limit));
        if (cursor) params.set("cursor", cursor);
        const data = await window.PMD.requestJson(`${root.dataset.idsUrl}?${params}`);
        for (const id of data.ids) selection.add(id);
        fetched += data.ids.length;
        cursor = data.next_cursor;
        total = data.total_count;
        progress.textContent = `Selecting… ${fetched.toLocaleString("en")} / ${total.toLocaleString("en")}`;
      } while (cursor);
      save();
      // Only "Select all" of the table itself is the table's state; a month's
      // selection is sent as ids.
      matching =
        search === null && selection.size === fetched
          ? { state: table.dataset.state, size: fetched }
          : null;
      const which = search === null ? "matching posts" : `posts of ${label || "the month"}`;
      window.PMD.toast(`Selected all ${fetched.toLocaleString("en")} ${which}.`, "info", 3500);
    } catch (error) {
      save();
      window.PMD.toast(`Could not select all posts: ${error.message}`, "error");
    } finally {
      selectingAll = false;
      progress.hidden = true;
      if (search !== null) button.disabled = false;
      render();
    }
  }

  root.addEventListener("click", (event) => {
    const month = event.target.closest("[data-select-month]");
    if (month) {
      if (!selectingAll) selectAllMatching(month, month.dataset.search);
      return;
    }
    const badge = event.target.closest("[data-select]");
    if (badge) {
      const which = badge.dataset.select;
      if (which === "page") setSelected(pageIds(), true);
      else if (which === "unpage") setSelected(pageIds(), false);
      else if (which === "none") setSelected([...selection], false);
      else if (which === "all") selectAllMatching(badge);
      return;
    }
    const help = event.target.closest("[data-open-help]");
    if (help) {
      openDialog(document.getElementById("keyboard-help"), help);
      return;
    }
    const row = event.target.closest(ITEM);
    // Buttons and links in a row do their own thing; the rest of the row selects.
    if (!row || event.target.closest("button, a, label")) return;
    toggle(row, event.shiftKey);
  });
  // Shift-click would otherwise also select the text between the clicks.
  root.addEventListener("mousedown", (event) => {
    if (event.shiftKey && event.target.closest(ITEM)) event.preventDefault();
  });
  root.addEventListener("change", (event) => {
    if (event.target.matches("[data-select-page]")) setSelected(pageIds(), event.target.checked);
  });

  // Keyboard: j/k move, x toggles, Shift+x extends, / searches, ? helps.
  function focusedRow() {
    return document.activeElement?.closest?.(ITEM) || null;
  }
  function moveFocus(step) {
    const all = rows();
    if (!all.length) return;
    const current = all.indexOf(focusedRow());
    const next = current === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, current + step));
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }
  function typing(target) {
    return target.closest?.("input, textarea, select, [contenteditable='true'], [contenteditable='']");
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]")) return;
    const key = event.key;
    if (key === "j" || key === "k") {
      moveFocus(key === "j" ? 1 : -1);
    } else if (key === "x" || key === "X") {
      const row = focusedRow();
      if (!row) return;
      toggle(row, event.shiftKey);
    } else if (key === "/") {
      document.getElementById("table-search")?.focus();
    } else if (key === "?") {
      openDialog(document.getElementById("keyboard-help"), document.activeElement);
    } else {
      return;
    }
    event.preventDefault();
  });

  // Focus. A control that is gone, disabled or hidden cannot keep it: then it
  // goes to the table's summary ("1–32 of 100"), or to its empty state.
  function usable(element) {
    return Boolean(element?.isConnected && !element.disabled && !element.closest("[hidden], dialog:not([open])")
      && element.getClientRects().length);
  }
  function focusTable() {
    document.querySelector("#post-table [data-table-focus]")?.focus();
  }
  function focusLost() {
    const active = document.activeElement;
    return !active || active === document.body || !usable(active);
  }
  // Back to `element` (the control that started something) once it is done,
  // unless the user has since moved focus somewhere else on purpose.
  function restoreFocus(element) {
    const active = document.activeElement;
    if (!focusLost() && active !== element) return;
    if (usable(element)) element.focus();
    else focusTable();
  }
  // Capture: at the dialog itself this runs before its own "close" listeners,
  // so focus is back on the opener before they start work that disables it.
  function openDialog(dialog, opener) {
    dialog.addEventListener("close", () => restoreFocus(opener), { once: true, capture: true });
    dialog.showModal();
  }

  // Only the newest of the table's requests is drawn: a slower answer to an
  // earlier search or filter would put back, through syncControls, what the
  // person has changed since (and its address in the history).
  let tableRequests = 0;
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.target?.id !== "post-table") return;
    tableRequests += 1;
    event.detail.xhr.pmdTableRequest = tableRequests;
  });
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const number = event.detail.xhr?.pmdTableRequest;
    if (number !== undefined && number !== tableRequests) event.detail.shouldSwap = false;
  });

  // A swap replaces every control in the table: the one that had focus (or
  // triggered the swap) is found again in the new table by its id or
  // data-focus-key, e.g. the sort link just used, or the eye of the row.
  let focusKey = null;
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const table = document.getElementById("post-table");
    if (!table || event.detail.target !== table) return;
    const active = document.activeElement;
    if (!active || !table.contains(active)) return;
    focusKey = active.dataset.focusKey ? `[data-focus-key="${active.dataset.focusKey}"]`
      : active.id ? `#${CSS.escape(active.id)}` : "";
  });
  function refocusAfterSwap(table) {
    if (focusKey === null) return;
    const target = focusKey ? table.querySelector(focusKey) : null;
    focusKey = null;
    if (usable(target)) target.focus();
    else focusTable();
  }

  // On a phone the header is one row of sort links that scrolls sideways:
  // bring the one the table is sorted by into view.
  function showSortedHeader() {
    const strip = document.querySelector("#post-table thead tr");
    const sorted = strip?.querySelector('th[aria-sort="ascending"], th[aria-sort="descending"]');
    if (!strip || !sorted || strip.scrollWidth <= strip.clientWidth) return;
    strip.scrollLeft = sorted.offsetLeft - strip.offsetLeft - strip.clientWidth / 3;
  }

  // A page number past the end shows the last page: the address says so too,
  // and the note saying so is brought into view (it sits by the pager and
  // "Go to page", where the request came from).
  function settleClampedPage(table, swapped) {
    if (!table.hasAttribute("data-clamped")) return;
    const query = table.dataset.state;
    history.replaceState(history.state, "", `${location.pathname}${query ? `?${query}` : ""}`);
    if (swapped) table.querySelector("[data-clamp-note]")?.scrollIntoView({ block: "nearest" });
  }

  // After htmx swaps in a new table (a sort, a page, a search, or the server's
  // fresh copy of a page the back button returns to): mark its selected rows,
  // refresh the totals, put focus back. Other swaps (the live download panel,
  // recent activity) leave the table and its Shift range anchor alone.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    const table = document.getElementById("post-table");
    if (!table || !(event.target === table || event.target.contains?.(table))) return;
    const total = root.querySelector("[data-total-count]");
    if (total) total.textContent = Number(table.dataset.liveTotal).toLocaleString("en");
    if (currentView() !== view) {
      view = currentView();
      selection.clear();
      for (const id of load()) selection.add(id);
    }
    anchorId = null;
    markSearch(table);
    // The form's own requests leave its controls alone: they hold what the
    // person chose, changes made while the answer was on its way included.
    if (event.detail.requestConfig?.elt?.id !== "table-controls") syncControls(table);
    render();
    showSortedHeader();
    refocusAfterSwap(table);
    settleClampedPage(table, true);
  });

  // The search box lies outside the swapped table: it is marked invalid, and
  // pointed at the note saying why, while the table says it could not search.
  function markSearch(table) {
    const input = document.getElementById("table-search");
    if (!input) return;
    const note = table.querySelector("[data-search-error]");
    if (note) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
    } else {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }

  // The filters' links (facets) change the table without the form above it:
  // the form's controls are set from the state the table was drawn for, so
  // the next change of a control keeps what the link chose.
  function syncControls(table) {
    const form = document.getElementById("table-controls");
    if (!form || table.dataset.state === undefined) return;
    const state = new URLSearchParams(table.dataset.state);
    for (const [name, fallback] of [["visibility", "all"], ["format", "all"], ["license", "all"], ["size", form.elements.size?.dataset.default], ["layout", "table"], ["zoom", form.elements.zoom?.dataset.default]]) {
      const control = form.elements[name];
      if (control && fallback !== undefined) control.value = state.get(name) || fallback;
    }
    const box = form.elements.q;
    if (box && document.activeElement !== box) box.value = state.get("q") || "";
  }

  // The grid shows an animation's first frame; it plays while hovered or
  // focused, never for people who ask for reduced motion.
  const stillOnly = window.matchMedia("(prefers-reduced-motion: reduce)");
  function animate(event, on) {
    const tile = event.target.closest?.("#post-table [data-post-item]");
    const img = tile?.querySelector("img[data-animated]");
    if (!img || (on && tile.contains(event.relatedTarget))) return;
    if (!on && tile.contains(event.relatedTarget)) return;
    img.src = on && !stillOnly.matches ? img.dataset.animated : img.dataset.still;
  }
  root.addEventListener("mouseover", (event) => animate(event, true));
  root.addEventListener("mouseout", (event) => animate(event, false));
  root.addEventListener("focusin", (event) => animate(event, true));
  root.addEventListener("focusout", (event) => animate(event, false));

  // A run of several requests (a chunked action, a split download) that a
  // reload or a closed tab would cut short: the browser asks first. Not when
  // the page itself leaves for the log-in form.
  let runs = 0;
  window.addEventListener("beforeunload", (event) => {
    if (!runs || window.PMD.leaving) return;
    event.preventDefault();
    event.returnValue = "";
  });
  async function holdPage(work) {
    runs += 1;
    try {
      return await work();
    } finally {
      runs -= 1;
    }
  }

  window.PMD = Object.assign(window.PMD || {}, {
    selection: {
      ids: () => [...selection],
      has: (id) => selection.has(id),
      add: (ids) => setSelected(ids, true),
      remove: (ids) => setSelected(ids, false),
      onChange: (listener) => listeners.push(listener),
      // The table's filters when the selection is exactly "all N matching" of them, else null.
      matching: () => {
        if (!matching || matching.size !== selection.size) return null;
        const state = new URLSearchParams(matching.state);
        return Object.fromEntries(["q", "visibility", "format", "view"].map((name) => [name, state.get(name) || ""]));
      },
    },
    openDialog,
    restoreFocus,
    holdPage,
  });
  render();
  showSortedHeader();
  settleClampedPage(document.getElementById("post-table") || root, false);
})();
