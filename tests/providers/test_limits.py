"""Per-provider limits in one process: the real limiter, measured with real waits (a large rpm
makes its minute a fraction of a second: rpm=600 spaces calls 0.1 s apart)."""

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from videoagent_dagster.providers import limits
from videoagent_dagster.providers.limits import provider_slot

SLACK = 0.02  # timers may fire this early or late on a busy machine


@pytest.fixture(autouse=True)
def fresh_limiters(monkeypatch):
    """Each test gets its own limiters (they live for the process, one per provider and limits)."""
    monkeypatch.setattr(limits, "_limiters", {})


def calls_at(provider: str, n: int, threads: int, hold_s: float = 0.0) -> list[tuple[float, float]]:
    """Make n calls through the provider's slot from `threads` threads at once: when each got in
    and when it left, in order of getting in."""
    spans = []
    lock = threading.Lock()

    def call(_):
        with provider_slot(provider):
            got = time.monotonic()
            time.sleep(hold_s)
        with lock:
            spans.append((got, time.monotonic()))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(call, range(n)))
    return sorted(spans)


def test_requests_per_minute_space_the_calls(monkeypatch):
    """rpm=600: ten calls a "minute" of 1 s, so eleven asked at once take a full second — the one
    past the limit waits — and no two start closer than 0.1 s."""
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "paced=0/600")
    started = time.monotonic()
    spans = calls_at("paced", 11, threads=11)
    starts = [got - started for got, _ in spans]
    assert starts[0] < 0.1  # the first goes at once
    assert all(b - a >= 0.1 - SLACK for a, b in zip(starts, starts[1:])), starts
    assert starts[10] >= 1.0 - SLACK  # the eleventh call within the window waited for it
    assert starts[10] < 1.0 + 0.5  # and not much longer: the limiter does not over-wait


def test_an_idle_provider_is_called_at_once_and_a_burst_is_not_saved_up(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "paced=0/300")  # 0.2 s apart
    with provider_slot("paced"):
        pass
    time.sleep(0.5)  # longer than the spacing: the next call need not wait
    t0 = time.monotonic()
    with provider_slot("paced"):
        assert time.monotonic() - t0 < 0.1
    t1 = time.monotonic()
    with provider_slot("paced"):  # the idle time is not credit for a burst
        assert time.monotonic() - t1 >= 0.2 - SLACK


def test_concurrent_slots_bound_the_calls_in_flight(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "slotted=3/0")
    in_flight, most, lock = 0, 0, threading.Lock()

    def call(_):
        nonlocal in_flight, most
        with provider_slot("slotted"):
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            time.sleep(0.1)
            with lock:
                in_flight -= 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(call, range(10)))
    assert most == 3  # never more than three at once, and all three used
    assert time.monotonic() - started >= 0.4 - SLACK  # ten calls of 0.1 s, three at a time: four rounds


def test_slots_and_rpm_together(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "both=2/600")
    spans = calls_at("both", 6, threads=6, hold_s=0.25)
    starts = [got for got, _ in spans]
    assert all(b - a >= 0.1 - SLACK for a, b in zip(starts, starts[1:])), starts
    for got, _ in spans:  # at any call's start, at most two calls are in flight (itself included)
        assert sum(1 for g, left in spans if g <= got < left) <= 2


def test_a_failing_call_gives_its_slot_back_and_providers_are_separate(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "one=1/0,other=1/0")
    with pytest.raises(RuntimeError):
        with provider_slot("one"):
            raise RuntimeError("vendor is down")
    done = threading.Event()

    def holder():
        with provider_slot("one"):
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        t0 = time.monotonic()
        with provider_slot("other"):  # one's slot is taken; other's is not
            assert time.monotonic() - t0 < 0.1
    finally:
        done.set()
        t.join(10)


def test_a_caller_interrupted_while_waiting_does_not_block_the_ones_after_it(monkeypatch):
    """A run being stopped raises in the thread waiting for a slot (Dagster turns SIGTERM into an
    exception in the main thread): its place in line must go with it, or every later caller of that
    provider in this process waits for ever."""
    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "one=1/0")
    release, held = threading.Event(), threading.Event()

    def holder():
        with provider_slot("one"):
            held.set()
            release.wait(10)

    class Interrupted(Exception):
        pass

    def interrupt(signum, frame):
        raise Interrupted

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(10)
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(Interrupted):
            with provider_slot("one"):  # waits (the slot is held) until the interrupt
                pytest.fail("got a slot that was held")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    got = threading.Event()

    def next_caller():
        with provider_slot("one"):
            got.set()

    after = threading.Thread(target=next_caller, daemon=True)  # daemon: a hang must not hang pytest
    after.start()
    release.set()
    t.join(10)
    assert got.wait(3), "the caller after the interrupted one never got the free slot"
