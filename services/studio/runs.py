"""Prompt Studio runs being streamed in this process, so a new page run can wait for them.

Streamlit starts a new run of the page before an interrupted run has unwound, and the
interrupted run stores its chain run in a ``finally``. A new page run calls :func:`settle`
before it reads that chain run from the store: it waits until the store has the final state,
after asking the streaming run to stop when the user pressed Cancel. The same pattern as
``services/chat_turns.py`` for chat replies, both on :class:`services.in_flight.InFlight`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from services.in_flight import InFlight
from services.studio.engine import ChainEngine
from services.studio.parsing import FinalPrompt
from services.studio.state import ChainRun
from services.studio.stream import StepStream

if TYPE_CHECKING:  # storage imports the studio's types: only a type here, no import cycle
    from services.storage.chains import ChainStore

# process-wide state, not a cache: studio runs being streamed, so a new page run can wait for them
_runs = InFlight()


def settle(run_id: str, *, cancel: bool = False, timeout: float = 10.0) -> bool:
    """Wait until no step of this run is being streamed and its state is stored; with
    ``cancel``, stop it first. Returns at once when the run is not in flight; False when it
    is still being written by another session (left alone)."""
    return _runs.settle(run_id, cancel=cancel, timeout=timeout)


def edit_step_output(
    engine: ChainEngine, store: ChainStore, run_id: str, index: int, text: str
) -> ChainRun | None:
    """Store the user's edit of step ``index``'s answer (after stopping a run still writing
    it); returns the stored run, None when it is gone. Raises ChatCanvasError EMPTY_INPUT for
    an empty text (nothing changed)."""
    settle(run_id, cancel=True)  # never edit under a run that is still being written
    run = store.get_run(run_id)
    if run is not None:
        engine.set_output(run, index, text)
        store.save_run(run)
    return run


def edit_final_prompt(
    engine: ChainEngine, store: ChainStore, run_id: str, final: FinalPrompt
) -> ChainRun | None:
    """Store the user's edit of the final prompt and negative prompt, as typed (see
    :meth:`ChainEngine.set_final_prompt`); returns the stored run, None when it is gone.
    Raises ChatCanvasError EMPTY_INPUT for an empty prompt (nothing changed)."""
    settle(run_id, cancel=True)
    run = store.get_run(run_id)
    if run is not None:
        engine.set_final_prompt(run, final)
        store.save_run(run)
    return run


class StreamingRun:
    """A chain run from ``start_at``, stored as it goes. Iterate for the steps as they start
    (each is what ``st.write_stream`` takes); always call :meth:`close` in a ``finally``.

    The run is stored when it starts (so a reload finds it), after each step, and on close;
    close stops a step still streaming (it becomes cancelled, its partial text kept)."""

    def __init__(
        self, engine: ChainEngine, store: ChainStore, run: ChainRun, start_at: int = 0
    ) -> None:
        self.run = run
        self.done = threading.Event()
        self._store = store
        self._cancel = threading.Event()
        # raises ValueError before anything is registered when an earlier step is not done
        self._steps = engine.run(run, start_at, cancel=self._cancel)
        self._iter: Iterator[StepStream] | None = None
        store.save_run(run)
        _runs.add(run.id, self)

    def cancel(self) -> None:
        """Stop (from any thread): the step streaming ends at its next delta, no step after it
        starts."""
        self._cancel.set()

    def __iter__(self) -> Iterator[StepStream]:
        if self._iter is None:
            self._iter = self._steps_saved()
        return self._iter

    def _steps_saved(self) -> Iterator[StepStream]:
        for step in self._steps:
            yield step
            self._store.save_run(self.run)  # the step's stream has ended: keep its result

    def close(self) -> None:
        """Stop what still streams, store the run, and let :func:`settle` return."""
        try:
            if self._iter is not None:
                self._iter.close()
            self._steps.close()
            self._store.save_run(self.run)
        finally:
            _runs.remove(self.run.id, self)
            self.done.set()
