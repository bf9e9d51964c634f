"""Micro-batching: concurrent requests' documents share one forward pass.

Requests put their documents on a queue; one worker takes what is waiting (up to ``max_batch``
documents, waiting at most ``max_wait`` seconds after the first for more to arrive), runs the model
once in a worker thread, and hands each request its own documents back. A failing batch fails
only its own requests; the worker keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from biorelex.document import Document

logger = logging.getLogger(__name__)

BatchFn = Callable[[Sequence[Document]], list[Document]]


@dataclasses.dataclass
class _Job:
    documents: list[Document]
    future: asyncio.Future[list[Document]]


class MicroBatcher:
    """Group concurrent :meth:`submit` calls into batches for ``fn``.

    Args:
        fn: Documents -> predicted Documents, in order (run in one worker thread, one call at a time).
        max_batch: most documents per call of ``fn`` (a larger request is still run whole).
        max_wait: seconds to wait for more requests after the first one arrives.
    """

    def __init__(self, fn: BatchFn, max_batch: int = 32, max_wait: float = 0.005) -> None:
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.batches = 0
        self.documents = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="biorelex-model")

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def submit(self, documents: list[Document]) -> list[Document]:
        """The predicted documents of this request (raises what ``fn`` raised on its batch)."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not awaited")
        future: asyncio.Future[list[Document]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(documents, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            size = len(jobs[0].documents)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch:
                timeout = deadline - loop.time()
                try:  # past the deadline, still take what is already waiting
                    if timeout <= 0:
                        job = self._queue.get_nowait()
                    else:
                        job = await asyncio.wait_for(self._queue.get(), timeout)
                except (asyncio.QueueEmpty, TimeoutError):
                    break
                jobs.append(job)
                size += len(job.documents)
            await self._run_batch(loop, jobs)

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, jobs: list[_Job]) -> None:
        # unique ids inside the batch (requests may reuse "0", "doc", ...), restored afterwards
        flat = [
            dataclasses.replace(d, id=f"{j}:{i}")
            for j, job in enumerate(jobs)
            for i, d in enumerate(job.documents)
        ]
        try:
            predicted = await loop.run_in_executor(self._executor, self.fn, flat)
        except Exception as exc:  # the model failed: fail these requests, keep serving
            logger.exception("model failure on a batch of %d documents", len(flat))
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        self.batches += 1
        self.documents += len(flat)
        position = 0
        for job in jobs:
            mine = predicted[position : position + len(job.documents)]
            position += len(job.documents)
            if not job.future.done():
                job.future.set_result(
                    [dataclasses.replace(p, id=d.id) for p, d in zip(mine, job.documents, strict=True)]
                )
