// Layout checks run inside the page (tests/browser/geometry.py): one object
// of functions, each returning descriptions of the elements at fault.
({
  // An element's box as far as the scroll boxes around it show it.
  shown(el) {
    const r = el.getBoundingClientRect();
    const box = { l: r.left, t: r.top, r: r.right, b: r.bottom };
    for (let a = el.parentElement; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      const ar = a.getBoundingClientRect();
      if (cs.overflowX !== "visible") {
        box.l = Math.max(box.l, ar.left);
        box.r = Math.min(box.r, ar.right);
      }
      if (cs.overflowY !== "visible") {
        box.t = Math.max(box.t, ar.top);
        box.b = Math.min(box.b, ar.bottom);
      }
    }
    return box;
  },

  // The fixed layer an element belongs to: a fixed bar covers the page under it by design.
  layer(el) {
    for (let a = el; a; a = a.parentElement) if (getComputedStyle(a).position === "fixed") return a;
    return null;
  },

  seen(el) {
    const cs = getComputedStyle(el);
    return el.getClientRects().length > 0 && cs.visibility !== "hidden" && !cs.clip.startsWith("rect(0");
  },

  named(el) {
    const classes = typeof el.className === "string" && el.className.trim()
      ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
    const text = (el.innerText || el.value || el.alt || "").trim().replace(/\s+/g, " ").slice(0, 30);
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${classes} «${text}»`;
  },

  overlaps(selector, scope) {
    const items = [...document.querySelectorAll(`${scope} :is(${selector})`)]
      .filter((el) => this.seen(el))
      .map((el) => ({ el, box: this.shown(el), layer: this.layer(el) }))
      .filter(({ box }) => box.r - box.l > 1 && box.b - box.t > 1);
    const found = [];
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        const a = items[i];
        const b = items[j];
        if (a.layer !== b.layer || a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const w = Math.min(a.box.r, b.box.r) - Math.max(a.box.l, b.box.l);
        const h = Math.min(a.box.b, b.box.b) - Math.max(a.box.t, b.box.t);
        if (w > 1 && h > 1) {
          found.push(`${this.named(a.el)} covers ${this.named(b.el)} by ${Math.round(w)}×${Math.round(h)} px`);
        }
      }
    }
    return found.slice(0, 20);
  },

  spills(selector, scope) {
    return [...document.querySelectorAll(`${scope} :is(${selector})`)]
      .filter((el) => this.seen(el) && getComputedStyle(el).overflowX === "visible"
        && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${this.named(el)} holds ${el.scrollWidth} px in ${el.clientWidth} px`)
      .slice(0, 20);
  },

  notFullyShown(selector) {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll(selector)].filter((el) => {
      const r = el.getBoundingClientRect();
      const box = this.shown(el);
      return !this.seen(el) || r.left < -0.5 || r.right > width + 0.5
        || box.l > r.left + 0.5 || box.r < r.right - 0.5 || box.t > r.top + 0.5 || box.b < r.bottom - 0.5;
    }).map((el) => this.named(el));
  },
})
