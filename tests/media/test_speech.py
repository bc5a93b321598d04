"""The offline voice: espeak-ng in English, Chinese and Japanese, sped up to fit its shot."""

from videoagent_dagster.media.speech import speak, speak_within


def test_espeak_speaks_english_and_chinese(tmp_path):
    assert 1.0 < speak("The great migration crosses the plains.", tmp_path / "en.wav", language="en") < 5
    assert 1.0 < speak("非洲草原上的动物正在迁徙。", tmp_path / "zh.wav", language="zh") < 6


def test_espeak_speaks_japanese(tmp_path):
    import wave

    import numpy as np

    # Kana and kanji: espeak-ng's ja voice reads kana and names each kanji; either way it speaks.
    out = tmp_path / "ja.wav"
    assert 1.0 < speak("京都の古い寺は、長い歴史を静かに語っています。", out, language="ja") < 15
    with wave.open(str(out)) as w:
        assert np.abs(np.frombuffer(w.readframes(w.getnframes()), np.int16)).max() > 5000
    assert 1.0 < speak("ひらがなとカタカナで、ゆっくり話します。", tmp_path / "kana.wav", language="ja") < 6
    fitted = speak_within("京都の古い寺をめぐる物語を、ゆっくりとたどっていきましょう。", tmp_path / "fit.wav",
                          language="ja", limit=6.0)
    assert 1.0 < fitted < 6.5  # sped up into its 6 s shot (espeak-ng runs 8-9 s at the normal rate)


def test_speech_speeds_up_to_fit_its_shot(tmp_path):
    text = "This sentence is rather long for a very short shot of only two seconds."
    slow = speak(text, tmp_path / "a.wav", language="en")
    fitted = speak_within(text, tmp_path / "b.wav", language="en", limit=slow * 0.7)
    assert fitted <= slow * 0.75


def test_text_that_looks_like_options_is_spoken_not_obeyed(tmp_path):
    assert speak("-w /tmp/evil.wav --help", tmp_path / "o.wav", language="en") > 0.5
    assert (tmp_path / "o.wav").exists()
