"""A prompt-by-engine grid in a real browser against the fakes: two prompts by GPT Image and
Karlo run, every cell fills in, a row is voted, and the grid reopens from its address with
the vote."""

from __future__ import annotations

import re

import pytest

# a fresh server's first page, the run, then the grid opened again from its address
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
ROWS_BOX = 'textarea[aria-label="Prompts, one per line"]'
CELL = ".st-key-grid_cell_{}_{}"


def test_a_two_by_two_grid_runs_is_voted_and_reopens(page, running_app, fake_images, fake_karlo):
    page.goto(running_app.url + "grid")
    page.wait_for_selector(ROWS_BOX, timeout=90_000)  # a fresh server on a busy machine
    page.fill(ROWS_BOX, "A red fox, watercolor\nA blue fox, watercolor")
    page.keyboard.press("Control+Enter")
    page.get_by_text("Cells: 4").wait_for(timeout=40_000)

    page.get_by_role("button", name="Run the grid").click()
    # the cells fill in as they finish, then the stored grid is drawn at its own address
    page.wait_for_url(re.compile(r"/grid\?grid=[0-9a-f]+"), timeout=60_000)
    for r in range(2):
        for c in range(2):
            page.wait_for_selector(f"{CELL.format(r, c)} img", timeout=60_000)
    karlo_seeds = {tuple(call.body["seed"]) for call in fake_karlo.t2i_calls()[-2:]}
    assert len(karlo_seeds) == 1  # the Karlo column has one seed in both rows
    assert sorted(call.body["prompt"] for call in fake_images.calls[-2:]) == [
        "A blue fox, watercolor",
        "A red fox, watercolor",
    ]

    page.locator(".st-key-grid_vote_1_lane-1 button").click()
    page.get_by_text("Row 2: Lane 2").wait_for(timeout=40_000)
    address = page.url

    page.goto(running_app.url)
    page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
    page.goto(address)
    page.get_by_text("Row 2: Lane 2").wait_for(timeout=60_000)
    page.get_by_text("A blue fox, watercolor").first.wait_for(timeout=40_000)
    for r in range(2):
        for c in range(2):
            page.wait_for_selector(f"{CELL.format(r, c)} img", timeout=60_000)
    # row 1 still waits for its vote; the exports are offered
    page.locator(".st-key-grid_vote_0_tie button").wait_for(timeout=40_000)
    page.get_by_role("button", name=re.compile("Contact sheet")).wait_for(timeout=40_000)
