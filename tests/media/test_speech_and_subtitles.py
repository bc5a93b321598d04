from videoagent_dagster.media.speech import speak, speak_within
from videoagent_dagster.media.subtitles import (
    Cue,
    cues_for_line,
    split_text,
    write_ass,
    write_srt,
)


def test_espeak_speaks_english_and_chinese(tmp_path):
    assert 1.0 < speak("The great migration crosses the plains.", tmp_path / "en.wav", language="en") < 5
    assert 1.0 < speak("非洲草原上的动物正在迁徙。", tmp_path / "zh.wav", language="zh") < 6


def test_speech_speeds_up_to_fit_its_shot(tmp_path):
    text = "This sentence is rather long for a very short shot of only two seconds."
    slow = speak(text, tmp_path / "a.wav", language="en")
    fitted = speak_within(text, tmp_path / "b.wav", language="en", limit=slow * 0.7)
    assert fitted <= slow * 0.75


def test_text_that_looks_like_options_is_spoken_not_obeyed(tmp_path):
    assert speak("-w /tmp/evil.wav --help", tmp_path / "o.wav", language="en") > 0.5
    assert (tmp_path / "o.wav").exists()


def test_split_text_at_sensible_points():
    parts = split_text("One sentence here. Another, longer sentence follows it, with a clause.", 30)
    assert parts[0] == "One sentence here." and all(len(p) <= 30 for p in parts)
    zh = split_text("非洲草原上的野生动物正在迁徙，场面非常壮观。", 8)
    assert all(len(p) <= 8 for p in zh) and "".join(zh) == "非洲草原上的野生动物正在迁徙，场面非常壮观。"


def test_cues_srt_and_ass(tmp_path):
    cues = cues_for_line("First part. Second part here.", 2.0, 3.0, 15)
    assert cues[0].start == 2.0 and abs(cues[-1].end - 5.0) < 0.01
    write_srt([Cue(0, 1.5, "Hello"), Cue(61.25, 3723.5, "非洲")], tmp_path / "s.srt")
    assert (tmp_path / "s.srt").read_text(encoding="utf-8") == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello\n\n2\n00:01:01,250 --> 01:02:03,500\n非洲\n")
    write_ass([Cue(0, 1, "a {\\b1} b")], tmp_path / "s.ass", 320, 180)
    ass = (tmp_path / "s.ass").read_text(encoding="utf-8")
    assert "PlayResX: 320" in ass and "Noto Sans CJK SC" in ass and "{\\b1}" not in ass
