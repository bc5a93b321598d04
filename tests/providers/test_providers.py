from dataclasses import dataclass

import pytest

from videoagent_dagster.providers.cache import cache_key
from videoagent_dagster.providers.chain import (
    ProviderError,
    parse_chain,
    register,
    run_chain,
)
from videoagent_dagster.providers.speech import SpeechProvider
from videoagent_dagster.storage.media_store import MediaStore


@register("tts", "broken-test-voice", "v0")
@dataclass
class BrokenVoice(SpeechProvider):
    def speak(self, request, out):
        raise ConnectionError("vendor is down")


def test_chain_parsing():
    chain = parse_chain("tts", " broken-test-voice:v9 , offline ")
    assert [(p.name, p.model) for p in chain] == [("broken-test-voice", "v9"), ("offline", "espeak-ng")]
    with pytest.raises(ValueError, match="unknown llm provider .nope.*known providers: anthropic, .*offline, .*openai"):
        parse_chain("llm", "nope:x")
    with pytest.raises(ValueError, match="empty"):
        parse_chain("image", " , ")


def test_cache_key_covers_every_input():
    base = cache_key("image", "offline", "m", "prompt", {"w": 1}, ["abc"])
    assert base == cache_key("image", "offline", "m", "prompt", {"w": 1}, ["abc"])
    for other in (cache_key("video", "offline", "m", "prompt", {"w": 1}, ["abc"]),
                  cache_key("image", "openai", "m", "prompt", {"w": 1}, ["abc"]),
                  cache_key("image", "offline", "m2", "prompt", {"w": 1}, ["abc"]),
                  cache_key("image", "offline", "m", "prompt!", {"w": 1}, ["abc"]),
                  cache_key("image", "offline", "m", "prompt", {"w": 2}, ["abc"]),
                  cache_key("image", "offline", "m", "prompt", {"w": 1}, ["abd"])):
        assert other != base


def test_fallback_then_cache(tmp_path):
    store = MediaStore(root=str(tmp_path))
    calls = []

    def produce(provider, out, key):
        calls.append(provider.name)
        if provider.name == "broken-test-voice":
            raise ConnectionError("vendor is down")
        out.write_bytes(b"RIFF....")
        return {}

    chain = parse_chain("tts", "broken-test-voice,offline")
    args = dict(store=store, stage="tts", providers=chain, prompt="hello", params={}, input_hashes=[], ext="wav",
                produce=produce, what="a line")
    key, call = run_chain(**args)
    assert calls == ["broken-test-voice", "offline"] and call.provider == "offline" and not call.cached
    assert key.startswith("cache/") and store.exists(key)
    calls.clear()
    key2, call2 = run_chain(**args)
    # The preferred provider is asked again (it may be back); the fallback's result comes from the cache.
    assert calls == ["broken-test-voice"] and call2.cached and call2.provider == "offline" and key2 == key

    with pytest.raises(ProviderError, match="broken-test-voice:v0: vendor is down"):
        run_chain(**{**args, "providers": parse_chain("tts", "broken-test-voice"), "prompt": "other"})


def test_a_vendors_slots_go_to_the_picture_before_the_narration(monkeypatch):
    """Two slots; one caller holds each; then narration asks before four image calls: as slots
    free, the images get them first, narration last (it is off the critical path)."""
    import threading
    import time

    from videoagent_dagster.providers.limits import provider_slot

    monkeypatch.setenv("VIDEOAGENT_PROVIDER_LIMITS", "slotted=2/0")
    order: list[str] = []
    go = threading.Event()

    def call(stage: str, name: str, hold_until: threading.Event | None = None) -> None:
        with provider_slot("slotted", stage):
            order.append(name)
            if hold_until:
                hold_until.wait(10)

    holders = [threading.Thread(target=call, args=("image", f"first{i}", go)) for i in range(2)]
    for t in holders:
        t.start()
    while len(order) < 2:
        time.sleep(0.01)
    waiters = [threading.Thread(target=call, args=("tts", "speech"))]
    waiters[0].start()
    time.sleep(0.1)  # narration is in line first
    for i in range(4):
        waiters.append(threading.Thread(target=call, args=("image", f"image{i}")))
        waiters[-1].start()
    time.sleep(0.1)
    go.set()
    for t in holders + waiters:
        t.join(10)
    assert order[:2] == ["first0", "first1"] or order[:2] == ["first1", "first0"]
    assert sorted(order[2:6]) == ["image0", "image1", "image2", "image3"] and order[6:] == ["speech"]


def test_whether_a_failure_may_pass_is_its_type_never_its_message():
    from types import SimpleNamespace

    from videoagent_dagster.providers.chain import is_transient
    from videoagent_dagster.providers.errors import (
        ProviderConfigError,
        VendorJobFailed,
        VendorRefused,
        VendorTransient,
        explain,
    )

    # Words that once marked a failure as passing mean nothing in an untyped error.
    assert not is_transient(RuntimeError("openai did not answer within 5 s"))
    assert not is_transient(RuntimeError("runway server error (503)"))
    assert is_transient(VendorTransient("x")) and not is_transient(VendorRefused("x"))
    assert not is_transient(ProviderConfigError("OPENAI_API_KEY is not set"))
    assert is_transient(VendorJobFailed("internal", transient=True)) and not is_transient(VendorJobFailed("flagged"))

    class StatusError(Exception):
        def __init__(self, status):
            super().__init__(f"HTTP {status}")
            self.status_code, self.response = status, SimpleNamespace(status_code=status, headers={})

    def typed(e):
        return type(explain(e, "v", "V_KEY", 2, 30.0))

    assert [typed(StatusError(s)) for s in (401, 403, 400, 404, 422)] == [VendorRefused] * 5
    assert [typed(StatusError(s)) for s in (408, 409, 429, 500, 502, 503)] == [VendorTransient] * 6
    assert typed(TimeoutError()) is VendorTransient and typed(ConnectionRefusedError()) is VendorTransient
    try:  # a transport error wrapped by an SDK: its cause decides
        try:
            raise TimeoutError("read timed out")
        except TimeoutError as inner:
            raise RuntimeError("request failed") from inner
    except RuntimeError as wrapped:
        assert typed(wrapped) is VendorTransient
    assert not is_transient(explain(ValueError("bad handle"), "v", None, 0, 1.0))


def test_a_character_gets_a_voice_of_its_own_and_keeps_it(tmp_path):
    """Each character speaks in one of the provider's voices, never the narrator's, the same one
    every time; espeak-ng speaks its variant voices."""
    from videoagent_dagster.media.probe import media_duration
    from videoagent_dagster.providers.offline import OfflineVoice
    from videoagent_dagster.providers.openai import OpenAIVoice
    from videoagent_dagster.providers.speech import SpeechRequest

    offline = OfflineVoice(model="espeak-ng")
    keeper = offline.character_voice("keeper", "zh", None)
    assert keeper != "cmn" and keeper.startswith("cmn+") and keeper == offline.character_voice("keeper", "zh", None)
    assert OpenAIVoice(model="gpt-4o-mini-tts").character_voice("keeper", "en", "onyx") not in ("onyx", None)
    offline.speak(SpeechRequest(text="灯塔守护者说话了。", language="zh", voice=keeper, max_seconds=5), tmp_path / "k.wav")
    assert media_duration(tmp_path / "k.wav") > 0.3
