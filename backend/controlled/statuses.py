"""Controlled substances' states and kinds, named once: the values the database stores."""

from __future__ import annotations

from enum import StrEnum


class InventoryStatus(StrEnum):
    COUNTING = "counting"  # the count sheet is out; counts and explanations are being entered
    SIGNED = "signed"  # signed by the pharmacist: a record for the DEA, never changed

    @property
    def label(self) -> str:
        return {InventoryStatus.COUNTING: "Counting", InventoryStatus.SIGNED: "Signed"}[self]


class TakenAt(StrEnum):
    """21 CFR 1304.11(a): the inventory says whether it was taken at the opening or the close of business."""

    OPENING = "opening"
    CLOSE = "close"

    @property
    def label(self) -> str:
        return f"{self.value.capitalize()} of business"


class OrderForm(StrEnum):
    """How a CII order was placed (21 CFR 1305): the paper DEA Form 222 or a CSOS electronic order."""

    DEA_222 = "dea_222"
    CSOS = "csos"

    @property
    def label(self) -> str:
        return {OrderForm.DEA_222: "DEA Form 222", OrderForm.CSOS: "CSOS"}[self]


class LossType(StrEnum):
    """The type of theft or loss DEA Form 106 asks for."""

    NIGHT_BREAK_IN = "night_break_in"
    ARMED_ROBBERY = "armed_robbery"
    EMPLOYEE_PILFERAGE = "employee_pilferage"
    CUSTOMER_THEFT = "customer_theft"
    LOST_IN_TRANSIT = "lost_in_transit"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()
