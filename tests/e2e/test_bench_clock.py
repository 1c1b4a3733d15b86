"""bench_sessions' two clocks: the page's (Enter to the reply's first text on screen) and the
server's (bench/server_clock.py: the message's arrival to the flush of the reply's first text),
on the minimal app against the fake, in a real browser."""

from __future__ import annotations

from bench.bench_sessions import ROOT, Server, close, open_sessions, send_together
from bench.server_clock import shows_reply, turn_of
from tests.e2e.conftest import app_environment
from tests.fakes.openai_server import FAKE_KEY


def test_the_clock_reads_the_turn_from_the_message_and_skips_earlier_replies():
    assert turn_of(b"\x12\x20Imagine animals on Mars, round 3\x18") == 3
    assert turn_of(b"\x12Imagine animals on Mars, alone") == 1
    assert turn_of(b"\x12something else") is None
    assert shows_reply(b"\x0aFake gpt", 2)  # a reply's first words, before its marker
    assert shows_reply(b"Fake gpt-5-mini reply #2: animals", 2)
    assert not shows_reply(b"Fake gpt-5-mini reply #1: animals", 2)  # the last turn's, redrawn
    assert not shows_reply(b"Imagine animals on Mars, round 2", 2)


def test_the_server_clock_times_each_turn_from_arrival_to_the_first_words(
    fake_openai, browser, tmp_path
):
    env = app_environment(
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=fake_openai.base_url,
        MINIMAL_DB=str(tmp_path / "minimal.db"),
    )
    server = Server(ROOT / "bench" / "minimal_chat_app.py", env, tmp_path / "minimal.log")
    try:
        pages = open_sessions(browser, server.url, 1, None)
        page_times = []
        for turn in (1, 2):
            page_times += send_together(pages, f"Imagine animals on Mars, round {turn}", turn)
        close(pages)
        server_times = server.clocked()
    finally:
        server.stop()
    assert [c.turn for c in server_times] == [1, 2], server_times
    assert server_times[0].arrival < server_times[1].arrival
    delay = fake_openai.first_token_delay * 1000
    for clocked, on_page in zip(server_times, page_times, strict=True):
        # The fake waits before its first token, and the page's interval holds the server's:
        # turn 2 is not timed by its page's redrawing of turn 1's reply.
        assert delay <= clocked.first_token < on_page
        assert clocked.cpu > 0  # the server's CPU time in between
    warm = server_times[1]  # (turn 1 also imported the SDK)
    # a part of the time, which is mostly the fake's wait (the server's other threads worked
    # during that wait too: the CPU time is not the time before the request alone)
    assert warm.cpu < warm.first_token / 2
    assert server.clocked() == []  # each time is read once
