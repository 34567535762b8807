// Site-wide: toasts, and server errors from htmx requests shown as toasts.
(() => {
  "use strict";
  document.documentElement.classList.add("js");
  let leaving = false; // on the way to the log-in form (sessionEnded, below)

  // The two live regions are on the page from load (_base.html): screen readers
  // announce what is added to a region they already know, and often miss a
  // region that arrives with its first message.
  //
  // A toast may offer one action (`action`: {label, onClick, shortcut}), such
  // as "Undo". Its button is reachable with Tab but never takes focus by
  // itself. The toast stays at least `timeout` ms, and while the pointer or
  // focus is on it the clock stops (WCAG 2.2.1): nobody loses the button while
  // reaching for it. Returns {element, dismiss, withdraw, update}: withdraw()
  // takes the action away and leaves the message; update(message) rewrites it
  // in place (one toast that follows a run, not one per step) and gives it
  // its full time again.
  function toast(message, kind = "success", timeout = 6000, action = null) {
    const box = document.getElementById(kind === "error" ? "toast-alerts" : "toasts");
    // A page on its way to the log-in form says nothing more.
    if (!box || leaving) return { element: document.createElement("div"), dismiss() {}, withdraw() {}, update() {} };
    const item = document.createElement("div");
    item.className = `toast toast-${kind}`;
    const text = document.createElement("span");
    text.className = "toast-text";
    text.textContent = message;
    item.append(text);
    let button = null;
    if (action) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "toast-action";
      button.textContent = action.label;
      if (action.shortcut) {
        button.setAttribute("aria-keyshortcuts", action.shortcut);
        button.title = `${action.label} (${action.shortcut})`;
      }
      button.addEventListener("click", () => action.onClick());
      item.append(" ", button);
    }
    box.append(item);

    let remaining = timeout;
    let startedAt = 0;
    let timer = null;
    let hovered = false;
    let focused = false;
    const dismiss = () => {
      clearTimeout(timer);
      item.remove();
      if (action?.onExpire) action.onExpire();
    };
    const resume = () => {
      if (timer !== null || hovered || focused || !item.isConnected) return;
      startedAt = Date.now();
      timer = setTimeout(dismiss, Math.max(remaining, 0));
    };
    const pause = () => {
      if (timer === null) return;
      clearTimeout(timer);
      timer = null;
      remaining -= Date.now() - startedAt;
    };
    item.addEventListener("mouseenter", () => { hovered = true; pause(); });
    item.addEventListener("mouseleave", () => { hovered = false; resume(); });
    item.addEventListener("focusin", () => { focused = true; pause(); });
    item.addEventListener("focusout", (event) => {
      if (item.contains(event.relatedTarget)) return;
      focused = false;
      resume();
    });
    resume();
    const withdraw = () => {
      if (!button) return;
      // A focused button that goes away would drop focus on <body>.
      if (button.contains(document.activeElement)) document.getElementById("main")?.focus();
      button.remove();
      button = null;
    };
    const update = (next) => {
      text.textContent = next;
      // Its full time again, from now (or from when the pointer leaves it).
      const counting = timer !== null;
      pause();
      remaining = timeout;
      if (counting) resume();
    };
    return { element: item, dismiss, withdraw, update };
  }

  // A session that ended while the page was open (it expired, or the person
  // logged out in another tab): the whole page goes to the log-in form, which
  // says so once and brings them back here. The first answer that tells
  // (the API's 401, a log-in page where a fragment was expected) decides;
  // the requests still in flight end quietly.
  function sessionEnded() {
    if (leaving) return;
    leaving = true;
    window.PMD.leaving = true;
    const params = new URLSearchParams({ next: location.pathname + location.search, session: "ended" });
    // After the callers' own clean-up, so a run that stops here does not ask to stay.
    setTimeout(() => location.assign(`${document.body.dataset.loginUrl}?${params}`), 0);
  }

  const UNREACHABLE = "The server could not be reached. Check your connection and try again.";

  // The server's own message ({"error": ...}), else one that says what to do.
  function failureMessage(status, data) {
    if (data && data.error) return data.error;
    if (status === 0) return UNREACHABLE;
    if (status === 403) return "Your session has expired. Reload the page and log in again.";
    return `The server answered ${status}. Please try again.`;
  }

  function serverMessage(xhr) {
    let data = null;
    try {
      data = JSON.parse(xhr.responseText);
    } catch (_) { /* not JSON */ }
    return failureMessage(xhr.status, data);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (_) {
      return "";
    }
  }

  // The one way the page's scripts call the JSON API: a GET, or a POST of
  // `body` with the CSRF token. Resolves to the answer's JSON; rejects with an
  // Error whose message can be shown as it is.
  // A GET, or a POST of `body`; `method` for another (PATCH, DELETE).
  async function requestJson(url, body = undefined, method = undefined) {
    // Support in another user's dashboard: every API call acts for that owner.
    const target = document.querySelector("[data-pmd]")?.dataset.targetSqid;
    if (target && url.startsWith("/api/")) {
      const withTarget = new URL(url, window.location.origin);
      withTarget.searchParams.set("target_sqid", target);
      url = `${withTarget.pathname}${withTarget.search}`;
    }
    const options = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined || method) {
      options.method = method || "POST";
      options.headers["X-CSRFToken"] = csrfToken();
    }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (_) {
      throw new Error(UNREACHABLE);
    }
    const data = await response.json().catch(() => null);
    if (response.status === 401) sessionEnded();
    if (!response.ok) throw new Error(failureMessage(response.status, data));
    return data || {};
  }

  document.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr.status === 401) sessionEnded();
    else toast(serverMessage(event.detail.xhr), "error");
  });
  // The server answers an htmx request of a logged-out page with HX-Redirect
  // (pmd.access); a log-in page that arrives anyway is never swapped in.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const url = event.detail.xhr?.responseURL;
    if (url && new URL(url).pathname === document.body.dataset.loginUrl) {
      event.detail.shouldSwap = false;
      sessionEnded();
    }
  });
  document.addEventListener("htmx:sendError", () => toast(UNREACHABLE, "error"));

  window.PMD = Object.assign(window.PMD || {}, { toast, requestJson, leaving: false });
})();
