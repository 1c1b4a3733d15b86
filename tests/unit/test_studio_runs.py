"""Studio runs in flight: stored as they go; a new page run can cancel one and wait for it."""

from __future__ import annotations

import threading
import time

import pytest

from services.errors import ChatCanvasError
from services.storage.chains import ChainStore
from services.studio import (
    BUILTIN_CHAINS,
    ChainEngine,
    FinalPrompt,
    StepStatus,
    edit_final_prompt,
    edit_step_output,
)
from services.studio.runs import StreamingRun, _runs, settle
from tests.conftest import OWNER

IDEA = "화성에 동물이 살았다면 어떤 모습이었을지 상상해줘"


@pytest.fixture
def chains(db) -> ChainStore:
    return ChainStore(db, OWNER)


@pytest.fixture
def engine(chat) -> ChainEngine:
    return ChainEngine(chat)


def drive(streaming: StreamingRun) -> None:
    """What the page does: show every step, close in a finally."""
    try:
        for step in streaming:
            for _ in step:
                pass
    finally:
        streaming.close()


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_settle_returns_at_once_when_nothing_is_in_flight():
    started = time.monotonic()
    settle("no-such-run", cancel=True)
    assert time.monotonic() - started < 0.1


def test_a_run_is_stored_when_it_starts_after_each_step_and_at_the_end(fake, engine, chains):
    run = engine.new_run(IDEA, BUILTIN_CHAINS["tutorial"])
    streaming = StreamingRun(engine, chains, run, 0)
    assert run.id in _runs
    assert chains.get_run(run.id).status == StepStatus.PENDING
    seen = []
    try:
        for step in streaming:
            for _ in step:
                pass
            if step.index == 1:
                seen = [s.status for s in chains.get_run(run.id).steps]
    finally:
        streaming.close()
    assert seen[0] == StepStatus.DONE  # step 1 was stored before step 2 ended
    assert run.id not in _runs and streaming.done.is_set()
    stored = chains.get_run(run.id)
    assert stored.status == StepStatus.DONE and stored.final_prompt == run.final_prompt


def test_cancel_keeps_the_partial_text_and_settle_waits_for_the_save(fake, engine, chains):
    fake.reply = lambda messages, model: "word " * 300
    fake.token_delay = 0.01
    run = engine.new_run(IDEA, BUILTIN_CHAINS["tutorial"])
    streaming = StreamingRun(engine, chains, run, 0)
    worker = threading.Thread(target=drive, args=(streaming,))
    worker.start()
    wait_for(lambda: run.steps[0].output)
    settle(run.id, cancel=True)
    assert streaming.done.is_set()  # settle returned after the save, not before
    worker.join(5)
    stored = chains.get_run(run.id)
    first = stored.steps[0]
    assert first.status == StepStatus.CANCELLED
    assert first.output.startswith("word") and len(first.output) < len("word " * 300)
    assert [s.status for s in stored.steps[1:]] == [StepStatus.PENDING] * 3
    assert stored.resume_index() == 0 and run.id not in _runs


def test_without_cancel_settle_waits_for_the_run_to_finish(fake, engine, chains):
    fake.token_delay = 0.005
    run = engine.new_run("a fox", BUILTIN_CHAINS["quick"])
    streaming = StreamingRun(engine, chains, run, 0)
    worker = threading.Thread(target=drive, args=(streaming,))
    worker.start()
    settle(run.id)
    assert chains.get_run(run.id).status == StepStatus.DONE
    worker.join(5)


def test_a_run_that_cannot_start_is_not_registered(engine, chains):
    run = engine.new_run(IDEA, BUILTIN_CHAINS["tutorial"])
    with pytest.raises(ValueError):
        StreamingRun(engine, chains, run, 2)  # steps 1 and 2 never ran
    assert run.id not in _runs
    assert chains.get_run(run.id) is None


def test_edits_are_stored_as_typed_and_an_empty_one_changes_nothing(fake, engine, chains):
    run = engine.new_run(IDEA, BUILTIN_CHAINS["tutorial"])
    drive(StreamingRun(engine, chains, run))
    typed = FinalPrompt("Cover:\na fox under a sign that says Negative: none", None)
    assert edit_final_prompt(engine, chains, run.id, typed).final == typed
    assert chains.get_run(run.id).final == typed
    with pytest.raises(ChatCanvasError):
        edit_final_prompt(engine, chains, run.id, FinalPrompt(" ", None))
    assert chains.get_run(run.id).final == typed

    edit_step_output(engine, chains, run.id, 1, "a violet fox")
    stored = chains.get_run(run.id)
    assert stored.steps[1].output == "a violet fox" and stored.steps[1].edited
    assert stored.steps[2].stale and stored.steps[3].stale  # the steps after it ran before
    with pytest.raises(ChatCanvasError):
        edit_step_output(engine, chains, run.id, 1, "")
    assert chains.get_run(run.id).steps[1].output == "a violet fox"
    assert edit_final_prompt(engine, chains, "no-such-run", typed) is None
