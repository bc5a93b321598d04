"""narration: each shot's line spoken, laid on one shot-aligned track, with subtitles."""

from dataclasses import replace

import dagster as dg

from videoagent_dagster.defs.video.brief import music_for
from videoagent_dagster.defs.video.common import (
    STEP_RETRY_POLICY,
    calls_summary,
    calls_table,
    for_each_shot,
    retried_only_when_transient,
)
from videoagent_dagster.defs.video.partitions import video_tasks
from videoagent_dagster.defs.video.reuse import made_from, remember, reusable
from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.keys import shot_name, task_media_key
from videoagent_dagster.domain.manifests import Narration, NarrationLine, Storyboard
from videoagent_dagster.media.audio import master_soundtrack, narration_track
from videoagent_dagster.media.probe import media_duration
from videoagent_dagster.media.subtitles import cues_for_lines, write_ass, write_srt
from videoagent_dagster.providers.chain import parse_chain
from videoagent_dagster.providers.speech import SpeechRequest, TTSResource
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.storage.media_store import MediaStore

# How long a subtitle stays up when there is no voice to time it by: a share of its shot.
SILENT_READING_SHARE = 0.9
FIT_TOLERANCE_S = 0.05  # trailing silence of a voice's last sample that may run past its shot
MAX_SPEED = 2.0  # the fastest a line is asked for; faster is hard to follow


class SpeechTooLong(RuntimeError):
    """A line cannot be spoken within its shot, even asked faster."""


@dg.asset(partitions_def=video_tasks, group_name="video", pool="tts", kinds={"wav"},
          retry_policy=STEP_RETRY_POLICY)
@retried_only_when_transient
def narration(context: dg.AssetExecutionContext, video_brief: Brief, storyboard: Storyboard, tts: TTSResource,
              media_store: MediaStore) -> Narration:
    """Per shot: audio, spoken text, start and end. Each line starts where its shot starts. And the
    finished soundtrack: the lines over the brief's music bed, ducked, loudness-normalised."""
    task = context.partition_key
    starts, t = [], 0.0
    for s in storyboard.shots:
        starts.append(t)
        t += s.duration
    audio_on = video_brief.options.include_audio
    spend = Spending(media_store, task)

    pinned: dict[str, str] = {}  # the one voice every line keeps to, once the first line has found it
    narrator = video_brief.options.voice

    def voice_of(speaker: str | None) -> str | None:
        """The narrator's voice, or a character's own: one of the serving provider's voices, kept for
        that character in every shot (and every re-run: chosen from its id)."""
        if speaker is None:
            return narrator
        provider = parse_chain("tts", pinned.get("chain") or tts.chain, tts.provider_settings())[0]
        return provider.character_voice(speaker, video_brief.language, narrator) or narrator

    def voice(i: int, shot) -> NarrationLine:
        start, end = starts[i], starts[i] + shot.duration
        text = shot.narration.strip()
        if not audio_on or not text:
            return NarrationLine(shot=i + 1, text=text, start=start, end=end,
                                 speech_duration=shot.duration * SILENT_READING_SHARE if text else 0.0)
        speaker = shot.speaker
        request = SpeechRequest(text=text, language=video_brief.language, voice=voice_of(speaker),
                                max_seconds=shot.duration)
        cached, call = tts.generate(request, spend=spend, chain=pinned.get("chain"))
        # The cached speech is a plain WAV whose header counts its samples (TTSResource), whatever
        # the vendor's said.
        spoken = media_duration(media_store.path(cached))
        if spoken > shot.duration + FIT_TOLERANCE_S:
            # The voice took longer than the shot (OpenAI's does not know the time it has): asked
            # again faster, never cut mid-word.
            faster = replace(request, speed=round(min(MAX_SPEED, spoken / shot.duration * 1.05), 3))
            cached, call = tts.generate(faster, spend=spend, chain=pinned.get("chain"))
            spoken = media_duration(media_store.path(cached))
            if spoken > shot.duration + FIT_TOLERANCE_S:
                raise SpeechTooLong(f"the line takes {spoken:.2f} s to say even at {faster.speed:g}x; its shot "
                                    f"lasts {shot.duration:.2f} s — shorten the narration of shot {i + 1}")
        key = media_store.copy(cached, task_media_key(task, "audio", f"{shot_name(i)}.wav"))
        spoken = min(spoken, shot.duration)
        return NarrationLine(shot=i + 1, text=text, start=start, end=end, audio_key=key, speech_duration=spoken,
                             call=call, speaker=speaker, voice=request.voice)

    # One narrator for the whole video: with a fallback chain (`openai,offline`), the first spoken
    # line decides which voice speaks, and every other line is asked of that one only, so a vendor
    # failing on one shot cannot put another voice in the middle (a re-run finds the same first
    # line in the cache, so keeps the same voice).
    spoken_shots = [i for i, s in enumerate(storyboard.shots) if s.narration.strip()] if audio_on else []
    if spoken_shots and len([p for p in tts.chain.split(",") if p.strip()]) > 1:
        first = voice(spoken_shots[0], storyboard.shots[spoken_shots[0]])
        pinned["chain"] = f"{first.call.provider}:{first.call.model}"
        context.log.info(f"narration: every line in {pinned['chain']}'s voice")
    lines = for_each_shot(context, storyboard.shots, voice, max_workers=tts.max_concurrency, stage="narration")

    track_key = soundtrack_key = music = voice_silences = None
    if audio_on:
        track_key = task_media_key(task, "audio", "narration.wav")
        soundtrack_key = task_media_key(task, "audio", "soundtrack.wav")
        music = music_for(video_brief, media_store)
        segments = [(media_store.path(ln.audio_key) if ln.audio_key else None, s.duration)
                    for ln, s in zip(lines, storyboard.shots)]
        # The same lines, shots and music bed (and media code) make the same track and soundtrack:
        # a re-run keeps those made last time instead of laying and mastering them again.
        record_key = task_media_key(task, "audio", "soundtrack.inputs.json")
        digest = made_from(*(a for a, _ in segments), [d for _, d in segments],
                           media_store.path(music) if music else None)
        record = reusable(media_store, record_key, digest, track_key, soundtrack_key)
        if record:
            voice_silences = [tuple(q) for q in record["voice_silences"]]
        else:
            # The track is heard as it is written: the voice's silences (for the checks) and its
            # loudness (where the mastering starts from).
            with media_store.writing(track_key) as tmp:
                heard = narration_track(segments, tmp)
            with media_store.writing(soundtrack_key) as tmp:
                master_soundtrack(media_store.path(track_key), tmp, music=media_store.path(music) if music else None,
                                  voice_lufs=heard["loudness"]["integrated_lufs"])
            voice_silences = heard["silent"]
            remember(media_store, record_key, digest, track_key, soundtrack_key, voice_silences=voice_silences)

    width, height = storyboard.width, storyboard.height
    cues = cues_for_lines([(ln.text, ln.start, ln.speech_duration) for ln in lines], width, height)
    srt_key, ass_key = task_media_key(task, "audio", "subtitles.srt"), task_media_key(task, "audio", "subtitles.ass")
    with media_store.writing(srt_key) as tmp:
        write_srt(cues, tmp)
    with media_store.writing(ass_key) as tmp:
        write_ass(cues, tmp, width, height)

    calls = [ln.call for ln in lines if ln.call]
    context.add_output_metadata({
        "lines": dg.MetadataValue.table(
            [dg.TableRecord({"shot": ln.shot, "start_s": round(ln.start, 3), "speech_s": round(ln.speech_duration, 3),
                             "shot_s": round(ln.end - ln.start, 3), "speaker": ln.speaker or "narrator",
                             "voice": ln.voice or "default", "text": ln.text}) for ln in lines],
            schema=dg.TableSchema(columns=[dg.TableColumn("shot", "int"), dg.TableColumn("start_s", "float"),
                                           dg.TableColumn("speech_s", "float"), dg.TableColumn("shot_s", "float"),
                                           dg.TableColumn("speaker"), dg.TableColumn("voice"),
                                           dg.TableColumn("text")])),
        "audio": audio_on,
        "music": music or "none",
        "subtitles": dg.MetadataValue.path(media_store.uri(srt_key)),
        **({"voices": calls_table(calls)} if calls else {}),
        **({"voice": ", ".join(sorted({f"{c.provider}:{c.model}" for c in calls}))} if calls else {}),
        **calls_summary(calls),
    })
    return Narration(lines=lines, track_key=track_key, soundtrack_key=soundtrack_key, music=music,
                     voice_silences=voice_silences,
                     subtitles_srt=srt_key, subtitles_ass=ass_key)
