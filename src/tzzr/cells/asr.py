"""ASR_ENGINE: speech recognition with faster-whisper (CTranslate2) from a local model
directory: `TZZR_ASR_MODEL_DIR`, or by default faster-whisper-base (multilingual), which
tzzr.cells.whisper_model assembles from its packages under TZZR_HOME/models on the first
run; nothing is downloaded from a hub. On CPU (int8) or CUDA (float16, e.g. the plan's
large-v3 on a GPU box). The language is detected when the client gives none. Audio is
decoded by ffmpeg from the audio containers in AUDIO_FORMATS only (no playlists, no
concat lists, no images: those open other files or are not speech), from a local file
only (no network), and no longer than `asr_max_seconds` (ffmpeg stops there itself: a
small file of hours of silence cannot fill memory)."""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tzzr.cells import whisper_model
from tzzr.cells.base import CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell

SAMPLE_RATE = 16_000
DECODE_TIMEOUT_SECONDS = 300
# ffmpeg's demuxer names (`ffmpeg -demuxers`): "matroska" also covers WebM, "mov" the
# MP4 family (m4a, 3gp), "ogg" Opus and Vorbis.
AUDIO_FORMATS = ("wav", "mp3", "ogg", "flac", "matroska", "mov", "aac", "amr", "caf", "aiff")
READABLE = "wav, mp3, ogg/opus, flac, webm/mkv, m4a/mp4/3gp, aac, amr, caf, aiff"
REFUSED_FORMAT = re.compile(r"\[(\w+) @ [^\]]*\] Format not on whitelist")
# Decode a little past the cap, so that audio exactly as long as the cap is not "cut".
OVER_CAP_SECONDS = 0.5


def decode(
    data: bytes, max_seconds: float, timeout: float = DECODE_TIMEOUT_SECONDS
) -> tuple[Any, bool]:
    """16 kHz mono float32 samples of the first `max_seconds` of the audio, and whether
    there was more. ffmpeg is stopped after `timeout` seconds."""
    import numpy as np

    binary = shutil.which("ffmpeg")
    if binary is None:
        raise CellFailed("ffmpeg is not installed: apt-get install ffmpeg")
    # A file, not a pipe: m4a/mp4 keep their index at the end and need seeking.
    with tempfile.NamedTemporaryFile(prefix="tzzr-audio-") as source:
        source.write(data)
        source.flush()
        try:
            done = subprocess.run(
                [
                    binary,
                    "-nostdin",
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-protocol_whitelist",
                    "file",
                    "-format_whitelist",
                    ",".join(AUDIO_FORMATS),
                    "-i",
                    source.name,
                    "-vn",
                    "-sn",
                    "-dn",
                    "-t",
                    f"{max_seconds + OVER_CAP_SECONDS:.3f}",
                    "-f",
                    "f32le",
                    "-ac",
                    "1",
                    "-ar",
                    str(SAMPLE_RATE),
                    "pipe:1",
                ],
                capture_output=True,
                timeout=max(timeout, 0.001),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CellFailed(f"decoding took longer than {timeout:g} s") from exc
    if done.returncode != 0 or not done.stdout:
        stderr = done.stderr.decode(errors="replace")
        refused = REFUSED_FORMAT.search(stderr)
        if refused:
            found = refused.group(1).removesuffix("_pipe")  # png_pipe: a PNG image
            raise CellFailed(
                f"the payload's format is {found}, not one this cell reads; send audio as "
                f"one of: {READABLE}",
                field="payload.content",
            )
        reason = stderr.strip().splitlines()
        raise CellFailed(
            "the payload is not audio that ffmpeg can decode"
            + (f" ({reason[-1]})" if reason else ""),
            field="payload.content",
        )
    samples = np.frombuffer(done.stdout, dtype=np.float32)
    cap = int(max_seconds * SAMPLE_RATE)
    return samples[:cap], len(samples) > cap


class AsrCell:
    module = "ASR_ENGINE"
    accepts = frozenset({"audio"})

    def __init__(
        self,
        model_dir: Path | None = None,
        device: str | None = None,
        max_seconds: float | None = None,
        home: Path | None = None,
    ) -> None:
        if model_dir is None or device is None or max_seconds is None or home is None:
            from tzzr.config import Settings

            settings = Settings()
            model_dir = model_dir or settings.asr_model_dir
            device = device or settings.asr_device
            max_seconds = max_seconds or settings.asr_max_seconds
            home = home or settings.home
        self.model_dir = model_dir  # None: the default model, under home/models
        self.default_dir = whisper_model.default_dir(home)
        self.device = device
        self.max_seconds = max_seconds
        self._model: Any = None
        self._device = ""  # where the model runs, once loaded
        self._model_name: str | None = None
        self._lock = threading.Lock()
        self.meta = KnowledgeCell(
            id="asr-engine",
            type="asr",
            version="1.1.0",
            description=(
                "Speech to text with timed segments and the language detected (faster-whisper; "
                "local model, by default the multilingual faster-whisper-base)."
            ),
            api_endpoint="/api/cells/asr-engine/run",
            microservice_url="",
            input_format={
                "payload": {"type": "audio"},
                "context": {"lang": "en | es | … (optional: detected when absent)"},
            },
            output_format={
                "text": "string",
                "language": "string: the one given, or the one detected",
                "language_probability": "number: the detection's confidence (1 when given)",
                "duration": "number: seconds transcribed",
                "segments": "[{start, end, text}]",
                "truncated": "bool: the audio was longer than max_seconds; the rest is unread",
            },
            author="TZZR",
            test_cases=[
                {
                    "name": "note-en",
                    "input": {"type": "audio", "sample": "note.wav"},
                    "lang": "en",
                    "expect": {"contains": ["contract", "Friday"]},
                },
                {
                    "name": "nota-es-detected",
                    "input": {"type": "audio", "sample": "nota.wav"},
                    "expect": {"contains": ["contrato", "viernes"]},
                },
            ],
            visualization_sample={
                "samples": [
                    {
                        "id": "note",
                        "input": {"type": "audio", "sample": "note.wav"},
                        "lang": "en",
                        "mediaType": "application/json",
                        "description": "The sample voice note's timed segments",
                    },
                    {
                        "id": "nota",
                        "input": {"type": "audio", "sample": "nota.wav"},
                        "mediaType": "application/json",
                        "description": "A Spanish voice note, its language detected",
                    },
                ]
            },
        )

    @property
    def queue(self) -> str:
        """Runs go to the gpu queue when the model runs on CUDA."""
        return "gpu" if self.device == "cuda" else "cpu"

    def health(self) -> dict[str, Any]:
        if shutil.which("ffmpeg") is None:
            return {"status": "down", "detail": "ffmpeg is not installed"}
        if self.model_dir is None:
            if whisper_model.packaged() is None:
                return {
                    "status": "down",
                    "detail": "TZZR_ASR_MODEL_DIR is unset and the default model's packages "
                    f"({', '.join(whisper_model.PACKAGES)}) are not installed",
                }
            model = f"{whisper_model.NAME} (default)"
            return {"status": "ok", "detail": {"model": model, "device": self.device}}
        if not (Path(self.model_dir) / "model.bin").is_file():
            return {"status": "down", "detail": f"no faster-whisper model at {self.model_dir}"}
        return {"status": "ok", "detail": {"model": str(self.model_dir), "device": self.device}}

    def _directory(self) -> Path:
        """The configured model directory, or the default one, assembled if need be."""
        if self.model_dir is None:
            return whisper_model.ensure(self.default_dir)
        if not (Path(self.model_dir) / "model.bin").is_file():
            raise CellFailed(
                "no speech model: TZZR_ASR_MODEL_DIR must be a faster-whisper "
                f"(CTranslate2) model directory (got {self.model_dir})"
            )
        return Path(self.model_dir)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import ctranslate2
                from faster_whisper import WhisperModel

                gpus = ctranslate2.get_cuda_device_count()
                device = self.device or "auto"
                if device == "auto":
                    device = "cuda" if gpus > 0 else "cpu"
                elif device == "cuda" and gpus == 0:
                    raise CellFailed(
                        "TZZR_ASR_DEVICE=cuda, but no CUDA device is visible here: set it to "
                        "auto or cpu, or run this cell on a GPU machine"
                    )
                directory = self._directory()
                self._model = WhisperModel(
                    str(directory),
                    device=device,
                    compute_type="float16" if device == "cuda" else "int8",
                    cpu_threads=min(4, os.cpu_count() or 1),
                    local_files_only=True,
                )
                self._device = device
                self._model_name = directory.name
            return self._model

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        model = self._load()
        # a /grace/runsync caller's remaining wait, when there is one
        audio, truncated = decode(
            payload.data, self.max_seconds, context.seconds_left(DECODE_TIMEOUT_SECONDS)
        )
        lang = (context.lang or "").split("-")[0].lower() or None
        if lang and not model.model.is_multilingual and lang != "en":
            raise CellFailed(
                f"the configured model speaks English only, not {lang!r}; point "
                "TZZR_ASR_MODEL_DIR at a multilingual model",
                field="context.lang",
            )
        started = time.perf_counter()
        segments, info = model.transcribe(audio, language=lang, beam_size=5)
        parts = [
            {"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
            for s in segments
        ]
        elapsed = time.perf_counter() - started
        duration = len(audio) / SAMPLE_RATE
        result: dict[str, Any] = {
            "text": " ".join(p["text"] for p in parts).strip(),
            "language": info.language,
            "language_probability": round(info.language_probability, 3),
            "duration": round(duration, 2),
            "segments": parts,
            "real_time_factor": round(elapsed / duration, 3) if duration else None,
            "truncated": truncated,
        }
        if truncated:
            result["max_seconds"] = self.max_seconds
        return CellResult(
            result,
            engine="faster-whisper",
            model=self._model_name,
            device=self._device,
        )
