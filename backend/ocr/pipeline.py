"""Image bytes -> prescription fields: the one function the CLI, the benchmark and the OCR job call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PIL import Image

from backend.ocr.engines import Box, OcrEngine, TextLine, get_engine
from backend.ocr.extract import LOW_CONFIDENCE, extract_fields
from backend.ocr.fields import FIELDS, MISSING, Field
from backend.ocr.images import open_upload

# Pages are read at most this long on their longest side: print stays 20+ pixels high on a letter
# page, and the detectors' time grows with the pixel count (a 12-megapixel photo would take seconds
# more for nothing). Boxes are given back in the page's own pixels.
READ_SIDE = 1600


@dataclass(frozen=True)
class Reading:
    """What OCR read from one upload: every field (value, confidence, box), on which page."""

    fields: dict[str, Field]
    page_of: dict[str, int]  # field -> 0-based page its box is on (absent for missing fields)
    page_sizes: tuple[tuple[int, int], ...]
    engine: str
    seconds: float

    def low_confidence(self) -> list[str]:
        """Fields the confirm screen marks for a person to check."""
        return [name for name in FIELDS if self.fields[name].confidence < LOW_CONFIDENCE]

    def as_json(self) -> dict[str, Any]:
        """The CLI's shape: the fields by name (missing -> null), `_confidence` and `_seconds`."""
        out: dict[str, Any] = {name: self.fields[name].value for name in FIELDS}
        out["_confidence"] = {name: self.fields[name].confidence for name in FIELDS}
        out["_seconds"] = round(self.seconds, 3)
        return out


def warm_up(engine: str | None = None) -> OcrEngine:
    """Load what a process loads once (the engine's models, the drug dictionary) before the first
    image, so a worker's first job and a timed reading do not pay for it."""
    from backend.drugs.matcher import resolve

    reader = get_engine(engine)
    resolve("amoxicillin")
    return reader


def read_prescription(data: bytes, engine: str | None = None) -> Reading:
    """Check the uploaded bytes (images.open_upload: type, size, damage, EXIF) and read the fields.

    Raises images.ImageRefused for a file that is not a usable image. Several pages (a fax): each
    field comes from the page that read it most surely. `seconds` is this upload's time from bytes
    to fields; the one-time model load (`warm_up`) is not part of it."""
    started = time.perf_counter()
    upload = open_upload(data)  # a bad file is refused before any model is loaded
    checked = time.perf_counter() - started
    reader = warm_up(engine)
    started = time.perf_counter() - checked
    fields: dict[str, Field] = dict.fromkeys(FIELDS, MISSING)
    page_of: dict[str, int] = {}
    for index, page in enumerate(upload.pages):
        for name, value in extract_fields(read_lines(reader, page)).items():
            if value.value is not None and value.confidence > fields[name].confidence:
                fields[name] = value
                page_of[name] = index
    return Reading(
        fields=fields,
        page_of=page_of,
        page_sizes=tuple(page.size for page in upload.pages),
        engine=reader.name,
        seconds=time.perf_counter() - started,
    )


def read_lines(reader: OcrEngine, page: Image.Image) -> list[TextLine]:
    """The engine's lines for one page, in the page's own pixel coordinates."""
    import numpy as np

    scale = min(1.0, READ_SIDE / max(page.size))
    image = page if scale == 1.0 else page.resize((round(page.width * scale), round(page.height * scale)))
    bgr = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()
    lines = reader.read(bgr)
    if scale == 1.0:
        return lines
    return [
        TextLine(
            line.text,
            Box(line.box.left / scale, line.box.top / scale, line.box.right / scale, line.box.bottom / scale),
            line.confidence,
        )
        for line in lines
    ]
