"""The chain's documents for the assistant: owners and managers upload SOPs, FAQs and policies."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.assistant.documents import MAX_UPLOAD_BYTES, delete_document, list_documents, upload_document
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, run_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

UPLOAD_ID = "document-upload"


@dataclasses.dataclass
class DocumentRow:
    id: str
    title: str
    filename: str
    size: str
    uploaded: str


class DocumentsState(ShellState):
    documents: list[DocumentRow] = []
    can_manage: bool = False
    error: str = ""

    @rx.event
    @guarded("assistant.use", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_manage = role_has(ctx.role, "assistant.documents")
        self.error = ""
        await self._reload(ctx)

    @rx.event
    @guarded("assistant.documents")
    async def upload(self, ctx: TenantContext, files: list[rx.UploadFile]) -> Any:
        if not files:
            self.error = "Choose a file first."
            return None
        file = files[0]
        content = await file.read(MAX_UPLOAD_BYTES + 1)
        try:
            document = await run_service(upload_document, ctx, file.name or "document.txt", content)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(f"{document.title}: {document.snippets} snippets the assistant can quote.")

    @rx.event
    @guarded("assistant.documents")
    async def delete(self, ctx: TenantContext, document_id: str) -> None:
        try:
            await run_service(delete_document, ctx, document_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        found = await run_service(list_documents, ctx)
        self.documents = [
            DocumentRow(d.id, d.title, d.filename, f"{d.characters:,} characters", d.created_at.strftime("%Y-%m-%d"))
            for d in found
        ]
