// Site-wide: toasts, and server errors from htmx requests shown as toasts.
(() => {
  "use strict";
  document.documentElement.classList.add("js");

  // The two live regions are on the page from load (_base.html): screen readers
  // announce what is added to a region they already know, and often miss a
  // region that arrives with its first message.
  //
  // A toast may offer one action (`action`: {label, onClick, shortcut}), such
  // as "Undo". Its button is reachable with Tab but never takes focus by
  // itself. The toast stays at least `timeout` ms, and while the pointer or
  // focus is on it the clock stops (WCAG 2.2.1): nobody loses the button while
  // reaching for it. Returns {element, dismiss, withdraw}: withdraw() takes the
  // action away and leaves the message.
  function toast(message, kind = "success", timeout = 6000, action = null) {
    const box = document.getElementById(kind === "error" ? "toast-alerts" : "toasts");
    if (!box) return null;
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
    return { element: item, dismiss, withdraw };
  }

  // The server's own message, whether it answered JSON {"error": ...} or text.
  function serverMessage(xhr) {
    try {
      const data = JSON.parse(xhr.responseText);
      if (data && data.error) return data.error;
    } catch (_) { /* not JSON */ }
    if (xhr.status === 0) return "The server could not be reached. Check your connection and try again.";
    if (xhr.status === 403) return "Your session has expired. Reload the page and log in again.";
    return `The server answered ${xhr.status}. Please try again.`;
  }

  document.addEventListener("htmx:responseError", (event) => toast(serverMessage(event.detail.xhr), "error"));
  document.addEventListener("htmx:sendError", () => toast("The server could not be reached. Check your connection and try again.", "error"));

  window.PMD = Object.assign(window.PMD || {}, { toast });
})();
