"""The chain's own documents for the assistant: owners and managers upload SOPs, FAQs and policies as
text, markdown or PDF; the assistant quotes them (with their title) when staff ask.

A document is data, never instructions: the local engine only quotes it, and the model provider gets
snippets as tool results under a system prompt that says so (a document saying "ignore your rules"
is just a sentence to quote).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from backend.assistant import retrieval
from backend.core import validation as check
from backend.core.errors import NotFound, ValidationFailed
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import tenant_session

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_CHARACTERS = 500_000
READABLE = (".txt", ".md", ".markdown", ".pdf")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    filename: str
    characters: int
    snippets: int
    created_at: datetime


def upload_document(ctx: TenantContext, filename: str, content: bytes, title: str = "") -> Document:
    """Keep a document's text and index it for the assistant; refuses what cannot be read."""
    require(ctx, "assistant.documents")
    name = filename.strip() or "document.txt"
    if not name.lower().endswith(READABLE):
        raise ValidationFailed("Upload a text (.txt), markdown (.md) or PDF file.", field="file")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("Documents are limited to 5 MB.", field="file")
    body = _text_of(name, content).strip()
    if not body:
        raise ValidationFailed("No text could be read from that file (a scanned PDF has none).", field="file")
    if len(body) > MAX_CHARACTERS:
        raise ValidationFailed(f"Documents are limited to {MAX_CHARACTERS:,} characters of text.", field="file")
    shown_title = (" ".join(title.split()) or name.rsplit(".", 1)[0])[:200]
    document_id = str(uuid.uuid4())
    with tenant_session(ctx) as session:
        # Indexed inside the transaction: if the index fails, the row is not kept either.
        pieces = retrieval.index_document(ctx, document_id, shown_title, body)
        row = session.execute(
            text(
                "INSERT INTO assistant_documents (tenant_id, id, title, filename, body, snippets, uploaded_by) "
                "VALUES (:t, :id, :title, :name, :body, :n, :u) RETURNING created_at"
            ),
            {
                "t": ctx.tenant_id,
                "id": document_id,
                "title": shown_title,
                "name": name[:200],
                "body": body,
                "n": pieces,
                "u": ctx.user_id,
            },
        ).one()
    return Document(document_id, shown_title, name, len(body), pieces, row.created_at)


def _text_of(filename: str, content: bytes) -> str:
    if filename.lower().endswith(".pdf"):
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(content))
            return "\n\n".join(page.extract_text() or "" for page in reader.pages)
        except (PdfReadError, ValueError, KeyError) as exc:
            raise ValidationFailed(f"That PDF cannot be read ({type(exc).__name__}).", field="file") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("Save the file as UTF-8 text and upload it again.", field="file") from None


def list_documents(ctx: TenantContext) -> list[Document]:
    require(ctx, "assistant.use")
    with tenant_session(ctx) as session:
        rows = session.execute(
            text(
                "SELECT id, title, filename, length(body) AS characters, snippets, created_at "
                "FROM assistant_documents ORDER BY created_at DESC"
            )
        ).all()
    return [Document(str(r.id), r.title, r.filename, r.characters, r.snippets, r.created_at) for r in rows]


def delete_document(ctx: TenantContext, document_id: str) -> None:
    require(ctx, "assistant.documents")
    check.as_uuid(document_id, "document")
    with tenant_session(ctx) as session:
        gone = session.execute(
            text("DELETE FROM assistant_documents WHERE id = :id RETURNING id"), {"id": document_id}
        ).first()
        if gone is None:
            raise NotFound("No such document.")
        retrieval.forget_document(ctx, document_id)
