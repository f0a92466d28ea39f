"""ASR_ENGINE: speech recognition with faster-whisper (CTranslate2) from a local model
directory (`TZZR_ASR_MODEL_DIR`; nothing is downloaded from a hub), on CPU (int8) or CUDA
(float16, e.g. the plan's large-v3 on a GPU box). Audio is decoded by ffmpeg from the
audio containers in AUDIO_FORMATS only (no playlists, no concat lists, no images: those
open other files or are not speech), from a local file only (no network), and no longer
than `asr_max_seconds` (ffmpeg stops there itself: a small file of hours of silence
cannot fill memory)."""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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
    ) -> None:
        if model_dir is None or device is None or max_seconds is None:
            from tzzr.config import Settings

            settings = Settings()
            model_dir = model_dir or settings.asr_model_dir
            device = device or settings.asr_device
            max_seconds = max_seconds or settings.asr_max_seconds
        self.model_dir = model_dir
        self.device = device
        self.max_seconds = max_seconds
        self._model: Any = None
        self._lock = threading.Lock()
        self.meta = KnowledgeCell(
            id="asr-engine",
            type="asr",
            version="1.0.0",
            description="Speech to text with timed segments (faster-whisper, local model).",
            api_endpoint="/api/cells/asr-engine/run",
            microservice_url="",
            input_format={"payload": {"type": "audio"}, "context": {"lang": "en | es | …"}},
            output_format={
                "text": "string",
                "language": "string",
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
                }
            ],
            visualization_sample={
                "samples": [
                    {
                        "id": "note",
                        "input": {"type": "audio", "sample": "note.wav"},
                        "lang": "en",
                        "mediaType": "application/json",
                        "description": "The sample voice note's timed segments",
                    }
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
        if self.model_dir is None or not (Path(self.model_dir) / "model.bin").is_file():
            where = self.model_dir or "TZZR_ASR_MODEL_DIR (unset)"
            return {"status": "down", "detail": f"no faster-whisper model at {where}"}
        return {"status": "ok", "detail": {"model": str(self.model_dir), "device": self.device}}

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if self.model_dir is None or not (Path(self.model_dir) / "model.bin").is_file():
                    raise CellFailed(
                        "no speech model: set TZZR_ASR_MODEL_DIR to a faster-whisper "
                        f"(CTranslate2) model directory (got {self.model_dir or 'nothing'})"
                    )
                import ctranslate2
                from faster_whisper import WhisperModel

                device = self.device or "auto"
                if device == "auto":
                    device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
                self._model = WhisperModel(
                    str(self.model_dir),
                    device=device,
                    compute_type="float16" if device == "cuda" else "int8",
                    cpu_threads=min(4, os.cpu_count() or 1),
                    local_files_only=True,
                )
                self._device = device
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
            model=Path(self.model_dir or "").name or None,
            device=self._device,
        )
