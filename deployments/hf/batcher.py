"""Iteration-level (continuous) batching: one decode loop per replica, requests join and leave
between steps.

Decoding a small model is bound by reading its weights, so one step for many sequences costs
little more than a step for one. A single thread runs the loop: before each step it admits
waiting sequences (up to `max_sequences`, and only while their cache fits the KV budget) and
drops the ones whose client left; the step then runs every sequence's new tokens through one
forward pass (deployments/hf/packed_step.py), samples each sequence's token with its own
settings and streams its text. A sequence leaves the moment it finishes, is stopped or is
cancelled, freeing its place and cache for the next step.

A sequence that asked for a `seed` is decoded in a batch of its own: batched matrix products do
not round exactly as a single row's do, so only a batch of one gives the same text for the same
seed whatever else is running (see the README's "Batching" section for the cost).

A step that fails is run again one sequence at a time: the sequence that fails alone fails, the
others go on. A failure outside a step ends the loop; `alive` turns false, health checks fail and
Ray Serve replaces the replica.

The loop's thread also loads the model and is the only thread of the process that runs torch
with more than one intra-op thread. torch's OpenMP (libgomp) gives every thread that runs a
parallel op its own team, and once a process has more OpenMP threads than cores, libgomp cuts
every team's spin-wait short: each parallel op then waits for its workers to wake up. Measured
here, a tiny model's forward on one thread took 1.5 ms, and 4.7 ms once another thread had run a
parallel op too. Other threads of the engine run torch single-threaded (`single_threaded_torch`).
"""

import logging
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

import torch

from deployments.errors import EngineError
from deployments.hf.kv_cache import SequenceCache, TokenBudget
from deployments.hf.packed_step import packed_logits
from deployments.hf.sequence import Sequence, deliver

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """What the loop decodes with, made on the loop's own thread (see the module docstring)."""

    model: Any
    num_layers: int
    kv_cache_tokens: int


def single_threaded_torch() -> None:
    """For helper threads (tokenizing, image processing): torch ops there use no OpenMP team."""
    torch.set_num_threads(1)


class ContinuousBatcher:
    def __init__(self, *, device: torch.device, max_sequences: int, torch_threads: int | None, name: str) -> None:
        self._device = device
        self._max_sequences = max_sequences
        self._torch_threads = torch_threads
        self._model: Any = None
        self._budget = TokenBudget(0)
        self._num_layers = 0
        self._inbox: deque[Sequence] = deque()  # guarded by _wake
        self._running: list[Sequence] = []  # the loop thread's own
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"batcher-{name}", daemon=True)
        self._load: Callable[[], LoadedModel] | None = None
        self._loaded: Future[None] = Future()

    def start(self, load: Callable[[], LoadedModel]) -> "Future[None]":
        """Start the loop's thread, which first calls `load`; the future is done once it has."""
        self._load = load
        self._thread.start()
        return self._loaded

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def active(self) -> int:
        """Sequences in the batch (admitted and not yet retired); `len` of a list is safe to read
        from another thread."""
        return len(self._running)

    def submit(self, sequence: Sequence) -> None:
        with self._wake:
            if self._stopping or not self.alive:
                raise EngineError("the model's decode loop is not running")
            self._inbox.append(sequence)
            self._wake.notify()

    def cancel(self, sequence: Sequence) -> None:
        """Drop `sequence`: at once while it waits, before the next step once it runs."""
        sequence.cancel()
        with self._wake:
            if sequence in self._inbox:
                self._inbox.remove(sequence)
                sequence.sink.retire()
            else:
                self._wake.notify()

    def stop(self, timeout_s: float = 30.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        if self._torch_threads is not None:
            torch.set_num_threads(self._torch_threads)
        torch.get_num_threads()  # fixes this thread's count before any other thread changes torch's
        try:
            assert self._load is not None
            loaded = self._load()
        except BaseException as exc:
            self._loaded.set_exception(exc)
            return
        self._model, self._num_layers = loaded.model, loaded.num_layers
        self._budget = TokenBudget(loaded.kv_cache_tokens)
        self._loaded.set_result(None)
        try:
            with torch.inference_mode():
                while self._prepare_step():
                    self._step()
            self._fail_all(EngineError("the model is shutting down"))
        except Exception as exc:  # a bug in the loop itself: nobody may wait forever
            logger.exception("decode loop failed; failing every request")
            self._fail_all(exc)

    def _prepare_step(self) -> bool:
        """Wait for work, admit what fits and drop what was cancelled; False once stopping."""
        with self._wake:
            while not self._stopping and not self._inbox and not self._running:
                self._wake.wait()
            if self._stopping:
                return False
            self._admit()
        for sequence in [s for s in self._running if s.cancelled]:
            self._retire(sequence)
        return True

    def _admit(self) -> None:
        while self._inbox and len(self._running) < self._max_sequences:
            sequence = self._inbox[0]
            if not self._budget.try_reserve(sequence.reserved_tokens):
                return  # first come, first served: the next one waits too
            self._inbox.popleft()
            sequence.cache = SequenceCache(self._num_layers, sequence.reserved_tokens)
            self._running.append(sequence)

    def _step(self) -> None:
        shared = [s for s in self._running if not s.solo]
        if shared:
            self._run_rows(shared)
        for sequence in [s for s in self._running if s.solo]:
            self._run_rows([sequence])
        deliver(s.sink for s in self._running)
        for sequence in [s for s in self._running if s.finished]:
            self._retire(sequence)

    def _run_rows(self, rows: list[Sequence]) -> None:
        try:
            logits = packed_logits(self._model, rows, self._device)
        except Exception as exc:
            if len(rows) > 1:  # find the row that fails: the others must go on
                for row in rows:
                    self._run_rows([row])
                return
            logger.warning("generation failed: %s", type(exc).__name__, exc_info=exc)
            rows[0].fail(exc)
            return
        for row, row_logits in zip(rows, logits):
            try:
                row.accept(row.sampler(row_logits))
            except Exception as exc:
                logger.warning("sampling failed: %s", type(exc).__name__, exc_info=exc)
                row.fail(exc)

    def _retire(self, sequence: Sequence) -> None:
        self._running.remove(sequence)
        self._budget.release(sequence.reserved_tokens)
        sequence.cache = None
        sequence.sink.retire()

    def _fail_all(self, error: BaseException) -> None:
        with self._wake:
            self._stopping = True
            waiting = list(self._inbox)
            self._inbox.clear()
        everyone = [*self._running, *waiting]
        for sequence in everyone:
            if not sequence.finished:
                sequence.fail(error)
        deliver(s.sink for s in everyone)
        for sequence in everyone:
            sequence.sink.retire()
        self._running.clear()
