"""Layout checks from element rectangles, not screenshots: what overlaps what,
what spills out of its box, what scrolls sideways, and what a scroll box or
the screen's edge hides. Each returns descriptions of the offenders, so a
failing assertion says which elements and by how many pixels. The checks
themselves run in the page (geometry.js)."""

from __future__ import annotations

from pathlib import Path

# What a person reads or presses: the elements that must never cover each other.
READABLE = (
    "a, button, input, select, img, label, h1, h2, p, td, th, li, time, .truncate, .badge,"
    " .row-status, .mod-mark, .deleted-when, .bdr-badge, .selected-count, .page-of, .toast"
)

_CHECKS = (Path(__file__).with_name("geometry.js")).read_text()


def _run(page, check: str, *args):
    return page.evaluate(
        f"([check, args]) => {{ const g = {_CHECKS}; return g[check](...args); }}",
        [check, list(args)],
    )


def overlaps(page, scope: str = "body", selector: str = READABLE) -> list[str]:
    """Pairs of visible elements (neither inside the other, in the same fixed
    layer) whose boxes, as their scroll boxes show them, cross by over 1 px."""
    return _run(page, "overlaps", selector, scope)


def spills(page, scope: str = "body", selector: str = READABLE) -> list[str]:
    """Elements whose content is wider than they are and shows outside them
    (a box that clips or scrolls its content on purpose is not one)."""
    return _run(page, "spills", selector, scope)


def sideways(page) -> int:
    """How far the page scrolls sideways, in px (0: not at all)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def not_fully_shown(page, selector: str) -> list[str]:
    """Elements matching `selector` that are hidden, past the screen's left or
    right edge, or cut off by a box that scrolls or clips them."""
    return _run(page, "notFullyShown", selector)


def assert_laid_out(page, scope: str = "body") -> None:
    """Nothing overlaps, nothing spills, the page does not scroll sideways."""
    assert sideways(page) == 0, f"the page scrolls {sideways(page)} px sideways"
    crossed = overlaps(page, scope)
    assert not crossed, "\n".join(crossed)
    spilled = spills(page, scope)
    assert not spilled, "\n".join(spilled)
