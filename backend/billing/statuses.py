"""Billing's statuses, named once: what the database stores (the values never change without a
migration) and the sets of them the rules ask about."""

from __future__ import annotations

from enum import StrEnum


class BillStatus(StrEnum):
    DRAFT = "draft"  # being rung up: no number, no stock taken
    FINALIZED = "finalized"  # issued, nothing paid yet ("unpaid" in everyday words)
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOIDED = "voided"  # cancelled before any payment; its stock went back
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"

    @classmethod
    def issued(cls) -> tuple[BillStatus, ...]:
        """Sold, whatever was paid or later refunded (a credit note does not undo the sale)."""
        return (cls.FINALIZED, cls.PARTIALLY_PAID, cls.PAID, cls.PARTIALLY_REFUNDED, cls.REFUNDED)

    @classmethod
    def payable(cls) -> tuple[BillStatus, ...]:
        """Issued and still owing money."""
        return (cls.FINALIZED, cls.PARTIALLY_PAID)

    @classmethod
    def refundable(cls) -> tuple[BillStatus, ...]:
        """Paid in full and not yet refunded in full: a credit note may give money back."""
        return (cls.PAID, cls.PARTIALLY_REFUNDED)

    @classmethod
    def credited(cls) -> tuple[BillStatus, ...]:
        """What a credit note leaves a bill as."""
        return (cls.PARTIALLY_REFUNDED, cls.REFUNDED)

    @classmethod
    def after_credit_note(cls, *, in_full: bool) -> BillStatus:
        return cls.REFUNDED if in_full else cls.PARTIALLY_REFUNDED

    @classmethod
    def after_payment(cls, *, settled: bool) -> BillStatus:
        """A payment that settles what was owed pays the bill; a smaller one pays it in part."""
        return cls.PAID if settled else cls.PARTIALLY_PAID


class CardStatus(StrEnum):
    """A card payment's status, in Stripe's own words (a PaymentIntent's status, then our refunds)."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # waiting for the card on the reader
    REQUIRES_CAPTURE = "requires_capture"  # authorized, not yet captured
    SUCCEEDED = "succeeded"  # captured
    CANCELED = "canceled"  # the authorization was released
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"

    @classmethod
    def open(cls) -> tuple[CardStatus, ...]:
        """Not yet captured nor released: waiting for the card, or authorized."""
        return (cls.REQUIRES_PAYMENT_METHOD, cls.REQUIRES_CAPTURE)

    @classmethod
    def captured(cls) -> tuple[CardStatus, ...]:
        """Money was taken (and may since have gone back in part or in full)."""
        return (cls.SUCCEEDED, cls.PARTIALLY_REFUNDED, cls.REFUNDED)

    @classmethod
    def refundable(cls) -> tuple[CardStatus, ...]:
        return (cls.SUCCEEDED, cls.PARTIALLY_REFUNDED)

    @classmethod
    def after_refund(cls, *, in_full: bool) -> CardStatus:
        return cls.REFUNDED if in_full else cls.PARTIALLY_REFUNDED


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REJECTED = "rejected"
    PAID = "paid"
    REVERSED = "reversed"  # a fill's claim, taken back when the fill went back to stock

    @classmethod
    def decisions(cls) -> tuple[ClaimStatus, ...]:
        """What a payer may answer to a submitted claim."""
        return (cls.APPROVED, cls.PARTIALLY_APPROVED, cls.REJECTED)

    @classmethod
    def granted(cls) -> frozenset[ClaimStatus]:
        """The payer pays (or paid) part of the price: the patient owes the rest."""
        return frozenset({cls.APPROVED, cls.PARTIALLY_APPROVED, cls.PAID})

    @classmethod
    def reversible(cls) -> frozenset[ClaimStatus]:
        """A fill's claim the payer has not paid yet can be taken back."""
        return frozenset({cls.DRAFT, cls.SUBMITTED, cls.APPROVED, cls.PARTIALLY_APPROVED, cls.REJECTED})
