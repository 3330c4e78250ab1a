"""LoRA adapters on the transformers engine: loaded with PEFT, one active at a time.

A PEFT model holding several adapters applies exactly one of them (or none) to every forward
pass: `set_adapter` and disabling the adapter layers change the model for every thread that uses
it. Generations run concurrently on threads, so switching while one runs would change its
weights mid-answer. `AdapterGate` admits any number of generations that use the active adapter
together and switches only when none is running; waiters are admitted in arrival order, so a
stream of requests for one adapter cannot starve another. The cost: requests for different
adapters of one replica take turns instead of sharing a batch (vLLM mixes them in one batch).
"""

import asyncio
from collections import deque
from pathlib import Path
from typing import Any, Callable

from peft import PeftModel


def load_adapters(model: Any, folders: dict[str, Path]) -> Any:
    """`model` wrapped by PEFT with every adapter loaded under its config name, none active."""
    (first_name, first_folder), *rest = folders.items()
    peft_model = PeftModel.from_pretrained(model, str(first_folder), adapter_name=first_name)
    for name, folder in rest:
        peft_model.load_adapter(str(folder), adapter_name=name)
    activate_adapter(peft_model, None)
    return peft_model.eval()


def activate_adapter(peft_model: Any, adapter: str | None) -> None:
    """Apply `adapter` to every following forward pass; None runs the base model."""
    if adapter is None:
        peft_model.base_model.disable_adapter_layers()
        return
    peft_model.base_model.enable_adapter_layers()
    peft_model.set_adapter(adapter)


class AdapterGate:
    """Admits generations so that all running ones use the same adapter (None: the base model).

    `acquire` waits its turn and switches the adapter when nothing runs; `release` is called once
    the generation's thread has finished (not when its consumer left), so a switch can never
    happen under a running generation.
    """

    def __init__(self, activate: Callable[[str | None], None]) -> None:
        self._activate = activate
        self._active: str | None = None
        self._running = 0
        self._waiters: deque[tuple[str | None, asyncio.Future[None]]] = deque()

    @property
    def active(self) -> str | None:
        return self._active

    async def acquire(self, adapter: str | None) -> None:
        if not self._waiters and (self._running == 0 or adapter == self._active):
            self._enter(adapter)
            return
        entry = (adapter, asyncio.get_running_loop().create_future())
        self._waiters.append(entry)
        try:
            await entry[1]
        except asyncio.CancelledError:
            if entry[1].done() and not entry[1].cancelled():
                self.release()  # admitted just as the caller went away
            else:
                self._waiters.remove(entry)
                self._admit()
            raise

    def release(self) -> None:
        self._running -= 1
        self._admit()

    def _enter(self, adapter: str | None) -> None:
        if self._running == 0 and adapter != self._active:
            self._activate(adapter)
            self._active = adapter
        self._running += 1

    def _admit(self) -> None:
        """Wake waiters from the front while they can run beside what is running."""
        while self._waiters:
            adapter, future = self._waiters[0]
            if self._running and adapter != self._active:
                return
            self._waiters.popleft()
            self._enter(adapter)
            future.set_result(None)
