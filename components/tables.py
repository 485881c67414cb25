"""Table markup shared by the pages: a full-width table with its header row, the same table under a
heading, and a row of plain cells.

Pages pass the rows as components (usually `rx.foreach(State.rows, row_fn)`); what a cell says is the
state's business, already formatted by the display rules (money, statuses, times in the branch's zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx


def data_table(headers: Sequence[str], *rows: rx.Component, table_id: str = "", size: str = "") -> rx.Component:
    """A full-width table: one header cell per name in `headers`, then `rows` in its body.

    `table_id` is what the browser tests find it by; `size="1"` for a compact table inside a card."""
    props: dict[str, Any] = {"width": "100%"}
    if size:
        props["size"] = size
    if table_id:
        props["id"] = table_id
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(header) for header in headers])),
        rx.table.body(*rows),
        **props,
    )


def titled_table(
    title: str, headers: Sequence[str], *rows: rx.Component, table_id: str = "", size: str = ""
) -> rx.Component:
    """`data_table` under its heading (a section of a report or a list page)."""
    return rx.vstack(
        rx.heading(title, size="4"),
        data_table(headers, *rows, table_id=table_id, size=size),
        width="100%",
    )


def cells_row(*cells: Any, class_name: str = "") -> rx.Component:
    """A table row of plain cells, one per value, in the columns' order."""
    props = {"class_name": class_name} if class_name else {}
    return rx.table.row(*[rx.table.cell(cell) for cell in cells], **props)


def foreach_table(headers: Sequence[str], rows: Any, row: Any, table_id: str) -> rx.Component:
    """A compact `data_table` with one row per item of a state list (`row` draws one)."""
    return data_table(headers, rx.foreach(rows, row), table_id=table_id, size="1")
