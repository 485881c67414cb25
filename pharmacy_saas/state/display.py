"""The pages' display rules are the product's one set: backend/core/display.py (money at the
currency's precision with its symbol, statuses in words, times in the branch's zone)."""

from backend.core.display import display_amount, display_date, display_money, display_status, display_time

__all__ = ["display_amount", "display_date", "display_money", "display_status", "display_time"]
