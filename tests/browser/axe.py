"""axe-core run inside the page: the WCAG 2.2 A/AA rules plus
axe's best practices (on our own pages); a serious or critical violation fails
the test, and the message lists each rule id, impact, element and help text."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WCAG_AND_BEST_PRACTICE = [*WCAG_22_AA, "best-practice"]
BLOCKING = {"serious", "critical"}

_axe = Axe()


def axe_violations(page, context: str | None = None, tags: list[str] | None = None) -> list[dict]:
    """The serious and critical violations axe finds on the page as it is now."""
    tags = tags or WCAG_AND_BEST_PRACTICE
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    results = _axe.run(page, context=context, options=options)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    """One line per failing element: rule id, impact, target selector, help text."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(
                f"{violation['id']} ({violation['impact']}) at {target}: {violation['help']}"
                f" — {node.get('failureSummary', '').replace(chr(10), ' ')}"
            )
    return "\n".join(lines)


def assert_accessible(page, context: str | None = None, tags: list[str] | None = None) -> None:
    violations = axe_violations(page, context, tags)
    assert not violations, f"axe found {len(violations)} blocking rule(s):\n" + describe(violations)
