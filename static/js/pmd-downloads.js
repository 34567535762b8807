// Download requests on the dashboard: the "Request download"
// dialog, live status over SSE (the panel re-renders on each bdr_update), a
// toast when a request becomes ready or fails, and the connection indicator.
//
// Over 128 selected posts (one request's limit) the button offers a split: "Split into 5
// downloads (uses 5 of today's 8)". The page asks the server where each
// selected post stands in the table's current sort (POST bdr/table-order, 512
// ids a call; the positions of two calls compare), cuts the selection in that
// order into parts of at most 128 and sends each as a normal download request
// ("part 2 of 5"), one after another. The server's limits are unchanged: when
// today's allowance is short the dialog offers the posts that fit, and a part
// refused midway stops the run. Posts of each part sent leave the selection.
(() => {
  "use strict";
  const root = document.querySelector("[data-pmd]");
  const live = document.querySelector("[data-live]");
  const dialog = document.getElementById("download-dialog");
  const button = document.querySelector("[data-request-download]");
  if (!root || !live || !dialog || !button) return;

  const limit = Number(dialog.dataset.downloadLimit) || 128;
  const maxParts = Number(dialog.dataset.maxParts) || 100;
  const orderBatch = Number(root.dataset.pageLimit) || 512;
  const reason = document.querySelector("[data-download-reason]");
  const label = button.querySelector("[data-download-label]");
  const form = dialog.querySelector("form");
  const offer = dialog.querySelector("[data-split-offer]");
  const status = dialog.querySelector("[data-download-status]");
  const submit = dialog.querySelector("[data-download-submit]");
  const indicator = live.querySelector("[data-live-indicator]");
  const number = (count) => count.toLocaleString("en");
  const plural = (count, word) => `${number(count)} ${word}${count === 1 ? "" : "s"}`;
  let sending = false;
  let offered = null; // the plan the open dialog offers

  // Toasts already shown ("<id>:<status>"), so a replayed event never repeats
  // one. What the page showed when it loaded counts as announced.
  const announced = new Set(
    [...document.querySelectorAll("[data-bdr-id]")].map((row) => `${row.dataset.bdrId}:${row.dataset.bdrStatus}`),
  );

  function requestsLeft() {
    const panel = document.querySelector("[data-bdr-panel]");
    return panel ? Number(panel.dataset.requestsLeft) : 0;
  }

  function dailyLimit() {
    const panel = document.querySelector("[data-bdr-panel]");
    return panel ? Number(panel.dataset.dailyLimit) : 0;
  }

  // As the server words it (pmd.errors.DailyLimitReached): "5 h 12 min".
  function untilReset() {
    const now = new Date();
    const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    const minutes = Math.max(Math.floor((midnight - now.getTime()) / 60000), 1);
    const hours = Math.floor(minutes / 60);
    return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
  }

  // What the selection can be sent as today: `needed` requests for all of it,
  // `parts` of them today (the allowance, and at most maxParts), `fits` posts.
  function plan() {
    const count = window.PMD.selection.ids().length;
    const left = requestsLeft();
    const needed = Math.ceil(count / limit);
    const parts = Math.min(needed, left, maxParts);
    return { count, left, needed, parts, fits: Math.min(count, parts * limit), split: needed > 1 };
  }

  // Why fewer posts than selected are offered, or "".
  function shortfall(p) {
    if (!p.split || p.parts === p.needed || !p.parts) return "";
    if (p.parts < p.left) {
      return `A split makes at most ${plural(maxParts, "download")}: the first ${number(p.fits)} of ${number(p.count)} posts fit.`;
    }
    const are = p.left === 1 ? "is" : "are";
    return `Only ${plural(p.left, "download")} ${are} left today: the first ${number(p.fits)} of ${number(p.count)} posts fit.`;
  }

  function buttonLabel(p) {
    if (!p.split || !p.parts) return "Request download";
    if (p.parts === 1) return `Request the first ${number(p.fits)} (today's last download)`;
    return `Split into ${p.parts} downloads (uses ${p.parts} of today's ${p.left})`;
  }

  function update() {
    const p = plan();
    const view = document.getElementById("post-table")?.dataset.view || "live";
    let why = "";
    if (sending) why = "Requesting…";
    else if (!p.count) why = "";
    else if (p.left <= 0) why = `No download requests left today; they reset at midnight UTC, in ${untilReset()}.`;
    else why = shortfall(p);
    button.hidden = view !== "live";
    button.disabled = sending || !p.count || p.left <= 0;
    if (!sending) label.textContent = buttonLabel(p);
    reason.textContent = why;
  }

  // What a request sent leaves the selection once the server took it; what
  // it refused stays selected, and the toast says so.
  async function requestDownload(options) {
    const ids = window.PMD.selection.ids();
    sending = true;
    update();
    try {
      const data = await window.PMD.requestJson(dialog.dataset.downloadUrl, { post_ids: ids, ...options });
      window.PMD.selection.remove(ids);
      window.PMD.toast(data.message, "success");
      document.body.dispatchEvent(new CustomEvent("pmd:bdr-changed"));
    } catch (error) {
      const these = ids.length === 1 ? "The post is" : `The ${plural(ids.length, "post")} are`;
      window.PMD.toast(`${error.message} ${these} still selected.`, "error", 10000);
    } finally {
      sending = false;
      update();
      window.PMD.restoreFocus(button);
    }
  }

  // The selected posts in the order the table shows them under its current
  // sort, across pages. The page knows only the rows it shows, so the server
  // gives each post's position in the table; asked 512 at a time, the
  // answers are merged by position.
  async function inTableOrder(ids) {
    const state = new URLSearchParams(document.getElementById("post-table")?.dataset.state || "");
    const sorting = {};
    if (state.get("sort")) sorting.sort = state.get("sort");
    if (state.get("dir")) sorting.direction = state.get("dir");
    const placed = [];
    for (let start = 0; start < ids.length; start += orderBatch) {
      const data = await window.PMD.requestJson(dialog.dataset.orderUrl, { post_ids: ids.slice(start, start + orderBatch), ...sorting });
      placed.push(...data.items);
    }
    return placed.sort((a, b) => a.position - b.position).map((item) => item.id);
  }

  function setBusy(busy) {
    for (const control of form.querySelectorAll("button, input")) control.disabled = busy;
  }

  // One toast per split, from "Requested 5 downloads…" to its last part being
  // ready: each part's "ready" updates it ("2 of 5 ready.") instead of
  // stacking a toast of its own. News that comes while the parts are still
  // being requested waits for that toast, so it is told in order.
  const splits = [];
  let requesting = null; // the split whose parts are being requested
  const forget = (news) => {
    if (splits.includes(news)) splits.splice(splits.indexOf(news), 1);
  };
  function splitNews() {
    const news = { ids: new Set(), ready: new Set(), early: new Map(), shown: null, text: "", kind: "success" };
    const line = () => {
      const total = news.ids.size;
      if (!news.ready.size) return news.text;
      if (news.ready.size === total) return `${news.text} All ${plural(total, "download")} ${total === 1 ? "is" : "are"} ready.`;
      return `${news.text} ${number(news.ready.size)} of ${number(total)} ready.`;
    };
    news.say = () => {
      if (news === requesting) return;
      // A toast that timed out while parts were building comes back with the next news.
      if (news.shown?.element.isConnected) news.shown.update(line());
      else news.shown = window.PMD.toast(line(), news.kind, 10000);
      if (news.ids.size && news.ready.size === news.ids.size) forget(news);
    };
    news.sent = (id) => news.ids.add(id);
    // Every part was asked for: the split's toast. Early news of parts that
    // are not this split's (an earlier one's) is told on its own.
    news.done = (text, kind) => {
      requesting = null;
      news.text = text;
      news.kind = kind;
      for (const [id, item] of news.early) {
        if (news.ids.has(id)) news.ready.add(id);
        else announce(item);
      }
      news.early.clear();
      if (!news.ids.size) forget(news);
      news.say();
    };
    splits.push(news);
    requesting = news;
    return news;
  }

  function requestSplit(p, options) {
    return window.PMD.holdPage(() => sendSplit(p, options));
  }

  async function sendSplit(p, options) {
    const news = splitNews();
    sending = true;
    update();
    setBusy(true);
    let ordered;
    let requested = 0;
    let artworks = 0;
    let failure = null;
    let last = null;
    const parts = [];
    try {
      status.textContent = `Putting ${plural(p.count, "post")} in table order…`;
      ordered = await inTableOrder(window.PMD.selection.ids());
      for (let start = 0; start < Math.min(ordered.length, p.fits); start += limit) {
        parts.push(ordered.slice(start, start + limit));
      }
      for (const [index, ids] of parts.entries()) {
        status.textContent = `Requesting download ${index + 1} of ${parts.length}…`;
        const which = parts.length > 1 ? { part: index + 1, parts: parts.length } : {};
        last = await window.PMD.requestJson(dialog.dataset.downloadUrl, { post_ids: ids, ...options, ...which });
        news.sent(last.id);
        requested += 1;
        artworks += ids.length;
        window.PMD.selection.remove(ids);
        // The panel shows each part as it is requested (and live from then on).
        document.body.dispatchEvent(new CustomEvent("pmd:bdr-changed"));
      }
    } catch (error) {
      failure = error;
    } finally {
      sending = false;
      setBusy(false);
      status.textContent = "";
      dialog.close("sent");
      update();
    }
    const still = window.PMD.selection.ids().length;
    const stillSelected = still ? ` The other ${plural(still, "post")} ${still === 1 ? "is" : "are"} still selected.` : "";
    if (failure && !requested) {
      news.done(`No download was requested: ${failure.message}${stillSelected}`, "error");
    } else if (failure) {
      news.done(
        `Requested ${requested} of ${parts.length} downloads (${plural(artworks, "artwork")}). ` +
          `Download ${requested + 1} was refused: ${failure.message}${stillSelected}`,
        "error",
      );
    } else {
      const email = options.send_email ? " We will email you as each is ready." : "";
      const left = last ? ` ${last.requests_left} of ${dailyLimit()} requests left today.` : "";
      news.done(
        `Requested ${plural(requested, "download")} of ${plural(artworks, "artwork")}. ` +
          `They are built in the background.${email}${left}${stillSelected}`,
        "success",
      );
    }
  }

  button.addEventListener("click", () => {
    const p = plan();
    offered = p.split ? p : null;
    const title = dialog.querySelector("[data-download-title]");
    if (!p.split) {
      title.textContent = `Download ${plural(p.count, "artwork")}`;
      offer.textContent = "";
      submit.textContent = "Request download";
    } else if (p.fits === p.count) {
      title.textContent = `Download ${plural(p.count, "artwork")} in ${p.parts} parts`;
      offer.textContent = `A download takes at most ${limit} posts, so these go as ${p.parts} downloads, ` +
        `in the table's order: ${p.parts} of today's ${p.left} requests.`;
      submit.textContent = `Request ${p.parts} downloads`;
    } else {
      title.textContent = `Download the first ${number(p.fits)} of ${plural(p.count, "artwork")}`;
      offer.textContent = `${shortfall(p)} Request ${p.parts === 1 ? "it" : "those"}?`;
      submit.textContent = p.parts === 1 ? "Request 1 download" : `Request ${p.parts} downloads`;
    }
    status.textContent = "";
    dialog.returnValue = "";
    window.PMD.openDialog(dialog, button);
  });
  form.addEventListener("submit", (event) => {
    if (!offered || event.submitter?.value !== "request") return;
    // The dialog stays open, its status line saying which part is on its way.
    event.preventDefault();
    requestSplit(offered, options());
  });
  // Escape would close the dialog while parts are on their way.
  dialog.addEventListener("cancel", (event) => {
    if (sending) event.preventDefault();
  });
  function options() {
    return {
      include_comments: form.elements.include_comments.checked,
      include_reactions: form.elements.include_reactions.checked,
      send_email: form.elements.send_email.checked,
    };
  }
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "request" || offered) return;
    requestDownload(options());
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
  live.addEventListener("htmx:sseError", (event) => {
    setIndicator("down", "Reconnecting…");
    // The server refused the stream (the extension will try again): if the
    // session has ended, the API's 401 takes the page to the log-in form.
    if (event.detail?.source?.readyState === EventSource.CLOSED) {
      window.PMD.requestJson(dialog.dataset.downloadUrl).catch(() => {});
    }
  });

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
    if (item.status === "ready" && item.part) {
      const split = splits.find((news) => news.ids.has(item.id));
      if (split && split !== requesting) {
        split.ready.add(item.id);
        split.say();
        return;
      }
      if (requesting) {
        requesting.early.set(item.id, item);
        return;
      }
    }
    announce(item);
  });

  function announce(item) {
    const part = item.part ? ` (part ${item.part} of ${item.parts})` : "";
    if (item.status === "ready") {
      window.PMD.toast(`Your download of ${plural(item.artwork_count, "artwork")}${part} is ready.`, "success", 10000);
    } else {
      window.PMD.toast(`A download request${part} failed: ${item.error_message || "it could not be built."}`, "error", 12000);
    }
  }

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
