// Site-wide: toasts, and server errors from htmx requests shown as toasts.
(() => {
  "use strict";
  document.documentElement.classList.add("js");

  // The two live regions are on the page from load (_base.html): screen readers
  // announce what is added to a region they already know, and often miss a
  // region that arrives with its first message.
  function toast(message, kind = "success", timeout = 6000) {
    const box = document.getElementById(kind === "error" ? "toast-alerts" : "toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = `toast toast-${kind}`;
    item.textContent = message;
    box.append(item);
    setTimeout(() => item.remove(), timeout);
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
