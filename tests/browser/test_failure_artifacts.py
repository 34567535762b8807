"""A failing browser test leaves a Playwright trace and a screenshot under the
test output folder (pytest-playwright, pyproject addopts), and a missing
Chromium skips browser tests with a reason, or fails them under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testing.services import require_chromium

ROOT = Path(__file__).resolve().parent.parent.parent

CONFTEST = """
# The project's Chromium launch, nothing else of its browser setup.
from tests.browser.conftest import browser_type_launch_args  # noqa: F401
"""
TESTS = """
from playwright.sync_api import expect


def test_it_passes(page):
    page.set_content("<h1>PMD</h1>")
    expect(page.locator("h1")).to_have_text("PMD")


def test_it_fails(page):
    page.set_content("<h1>PMD</h1>")
    expect(page.locator("h1")).to_have_text("Not PMD", timeout=300)
"""


def _run_pytest(folder: Path, **env: str) -> subprocess.CompletedProcess:
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_page.py").write_text(TESTS)
    # Only pytest-playwright: loading every installed plugin costs seconds.
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        **env,
    }
    if "CI" not in env:
        environment.pop("CI", None)
    return subprocess.run(
        # The project's own pytest options (pyproject.toml), run in the folder.
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")]
        + ["--rootdir", str(folder), "-p", "pytest_playwright.pytest_playwright", "-rs"]
        + ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestConfigWarning"]
        + [str(folder / "test_page.py")],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_failing_browser_test_leaves_a_trace_and_a_screenshot(tmp_path):
    require_chromium()
    result = _run_pytest(tmp_path)
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr

    kept = sorted(path.relative_to(tmp_path / "test-results") for path in
                  (tmp_path / "test-results").rglob("*") if path.is_file())  # fmt: skip
    assert [path.parent.name for path in kept] == ["test-page-py-test-it-fails-chromium"] * 2
    assert sorted(path.name for path in kept) == ["test-failed-1.png", "trace.zip"]


def test_a_missing_chromium_skips_with_a_reason_or_fails_under_ci(tmp_path):
    missing = {"PMD_CHROMIUM": str(tmp_path / "no-chromium")}
    (tmp_path / "local").mkdir()
    result = _run_pytest(tmp_path / "local", **missing)
    assert "2 skipped" in result.stdout, result.stdout + result.stderr
    assert f"Chromium is not available: {tmp_path}/no-chromium not found" in result.stdout

    (tmp_path / "ci").mkdir()
    result = _run_pytest(tmp_path / "ci", CI="true", **missing)
    assert result.returncode == 1
    assert "2 errors" in result.stdout, result.stdout + result.stderr
    assert "(required under CI=true)" in result.stdout
