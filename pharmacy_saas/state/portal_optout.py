"""The "stop messages" page a patient message links to: /portal/<slug>/stop/<code> (issue 18 §2).

Opening the page (a GET; mail scanners follow links) changes nothing and reads nothing: it asks "Stop
messages from <chain> by e-mail/text?" (the channel from the code's first letter). Only the button opts out,
as the chain's `portal` role (`backend.notifications.optout.confirm_optout`). A valid and an invalid code get
the same page and the same answer.
"""

from __future__ import annotations

import reflex as rx

from backend.core.errors import PharmacyError
from backend.notifications.optout import CHANNEL_WORDS, channel_of_code, confirm_optout
from pharmacy_saas.state.base import public, transact
from pharmacy_saas.state.portal import PortalState


class PortalOptoutState(PortalState):
    channel_word: str = ""  # "e-mail" / "text" / "" (a code that names none)
    stopped: bool = False
    stop_error: str = ""

    def _code(self) -> str:
        """The code in /portal/<slug>/stop/<code>: from the address, never from a var."""
        parts = [p for p in self.router.url.path.split("/") if p]
        return parts[3][:64] if len(parts) >= 4 and parts[2] == "stop" else ""

    @rx.event
    @public
    async def load_stop(self) -> None:
        await self._chain()
        channel = channel_of_code(self._code())
        self.channel_word = CHANNEL_WORDS[channel] if channel else ""
        self.stopped, self.stop_error = False, ""

    @rx.event
    @public
    async def confirm(self) -> None:
        """The patient pressed the button: stop the channel of this link (nothing for an unknown code)."""
        visitor = await self._visitor()
        if visitor is None:
            self.stop_error = "This pharmacy's online service is not available at the moment."
            return
        try:
            await transact(visitor, confirm_optout, self._code())
        except PharmacyError as exc:
            self.stop_error = exc.message
            return
        self.stopped = True
