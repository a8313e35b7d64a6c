"""The dashboard at ``/`` in headless Chromium (Playwright, Debian's chromium): it connects
with a token, shows the node's state live (server-sent events), approves an order held for
approval and sees it sent, and pauses the node and sees the trading state change.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.api.node import TOKEN, call, ensure_chromium, running_node

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard")]

ROOT = Path(__file__).resolve().parents[3]
# Every SmaCross order (100 ORCL shares, some $2,000) is above this: each waits for approval.
APPROVALS = '\n[approvals]\norder_notional = "1000"\ntimeout_s = 600\n'


@pytest.fixture(scope="module")
def chromium() -> str:
    return ensure_chromium()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with running_node(tmp_path_factory.mktemp("dashboard"), extra=APPROVALS) as running:
        yield running


def test_the_dashboard_approves_a_held_order_and_pauses_the_node(
    node: tuple[str, Path], chromium: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = node
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/")
            page.fill("#token", TOKEN)
            page.click("#connect")
            expect(page.locator("#state")).to_have_text("ACTIVE", timeout=20_000)

            approve = page.locator("button[data-approve]").first
            expect(approve).to_be_visible(timeout=30_000)
            approval_id = approve.get_attribute("data-approve")
            page.fill("#reason", "checked the size")
            approve.click()
            expect(page.locator("#message")).to_contain_text("O-approved-1", timeout=10_000)
            # The approved order reaches the venue and fills (the next bar's open).
            deadline = time.monotonic() + 30
            fills: list[dict[str, str]] = []
            while time.monotonic() < deadline:
                fills = call(url, "/api/v1/fills", TOKEN)[1]
                if any(f["client_order_id"] == "O-approved-1" for f in fills):
                    break
                time.sleep(0.2)
            assert any(f["client_order_id"] == "O-approved-1" for f in fills)
            actions = call(url, "/api/v1/actions", TOKEN)[1]
            approved = [a for a in actions if a["action"] == "approve"]
            assert approved[0]["target"] == approval_id
            assert approved[0]["actor"] == "admin"
            assert approved[0]["reason"] == "checked the size"

            page.fill("#reason", "lunch")
            page.click("#pause")
            expect(page.locator("#state")).to_have_text("REDUCING", timeout=10_000)
            assert call(url, "/api/v1/status", TOKEN)[1]["trading_state"] == "REDUCING"
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()


def test_a_restart_after_a_kill_waits_for_an_admins_approval_on_the_dashboard(
    node: tuple[str, Path], chromium: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, _ = node
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(url + "/")
            page.fill("#token", TOKEN)
            page.click("#connect")
            page.fill("#reason", "venue incident")
            page.click("#kill")
            expect(page.locator("#state")).to_have_text("HALTED", timeout=10_000)
            page.fill("#reason", "incident over")
            page.click("#resume")
            expect(page.locator("#message")).to_contain_text(
                "waits for an admin's approval as R-", timeout=10_000
            )
            restart = page.locator('button[data-approve^="R-"]')
            expect(restart).to_be_visible(timeout=10_000)
            expect(page.locator("#state")).to_have_text("HALTED")
            page.fill("#reason", "checked the venue")
            restart.click()
            expect(page.locator("#state")).to_have_text("ACTIVE", timeout=10_000)
            page.click("#stage-status")
            expect(page.locator("#stage")).to_contain_text("no [deployment]", timeout=10_000)
        finally:
            browser.close()
    actions = [a for a in call(url, "/api/v1/actions", TOKEN)[1] if "actor" in a]
    assert [a["action"] for a in actions[:3]] == ["resume", "approve", "request_restart"]


def test_the_stream_needs_a_token(node: tuple[str, Path]) -> None:
    url, _ = node
    assert call(url, "/api/v1/stream")[0] == 401
    assert call(url, "/api/v1/stream?token=wrong-wrong-wrong-wrong")[0] == 401
    status, page = call(url, "/")
    assert status == 200
    assert "<title>tradeloop node</title>" in page
