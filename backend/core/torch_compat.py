"""Lets torchvision import beside the pinned CPU torch.

PyPI's torchvision wheel is built against PyPI's (CUDA) torch; next to the CPU build of the same
torch version its compiled ops library (`torchvision._C`) does not load. torchvision then still
registers fake (meta) kernels for `torchvision::nms` and `torchvision::qnms` on import, and
registering a kernel for an operator nobody declared fails with "operator torchvision::nms does not
exist", so `import torchvision` raises. transformers imports torchvision whenever it is installed
(the assistant's embeddings go through it), and easyocr builds its text detector from
torchvision.models.

Neither caller runs a torchvision op (no detection boxes to suppress, no RoI pooling): declaring
the two schemas is enough for the import to succeed. Calling one of them would still fail loudly
("no kernel registered"), never silently compute something. When torchvision's own ops do load
(a matching build), this does nothing.
"""

from __future__ import annotations

import importlib.util
import threading

_lock = threading.Lock()
_done = False
_library = None  # kept alive: dropping the Library object would drop the schemas it defined

# The schemas exactly as torchvision's C++ (csrc/ops/nms.cpp, quantized/qnms) declares them.
_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)


def ensure_torchvision_importable() -> None:
    """Declare torchvision's op schemas when its compiled ops cannot load. Call before anything
    imports torchvision (transformers, sentence-transformers, easyocr). Idempotent and cheap."""
    global _done, _library
    if _done:
        return
    with _lock:
        if _done:
            return
        _done = True
        if importlib.util.find_spec("torchvision") is None:
            return
        import sys

        if "torchvision" in sys.modules:
            return  # already imported (successfully, or the error has happened): nothing to fix
        import torch

        if _native_ops_load():
            return
        library = torch.library.Library("torchvision", "FRAGMENT")
        for schema in _SCHEMAS:
            name = schema.split("(", 1)[0]
            if not _declared(torch, name):
                library.define(schema)
        _library = library


def _declared(torch, name: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
    except RuntimeError:
        return False
    return True


def _native_ops_load() -> bool:
    """Does torchvision's compiled ops library load against this torch? (Loaded here, it stays
    loaded, and torchvision's own import then finds its ops.)"""
    import importlib.machinery
    import os

    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    folder = list(spec.submodule_search_locations)[0]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, "_C" + suffix)
        if os.path.exists(path):
            try:
                torch.ops.load_library(path)
            except (OSError, RuntimeError):
                return False
            return True
    return False
