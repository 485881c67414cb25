"""The staff shell wired to ShellState, shared by every signed-in page."""

from typing import Any

import reflex as rx

from components.layout import staff_shell
from pages.assistant_chat import assistant_panel
from pharmacy_saas.state.auth import AccountState
from pharmacy_saas.state.dashboard import ShellState


def with_shell(*content: rx.Component, on_branch_change: Any = None) -> rx.Component:
    """A staff page in the shell; `on_branch_change` replaces the shell's own branch handler on a page
    whose content follows the branch (it must set ShellState.current_branch itself)."""
    return rx.cond(
        ShellState.loaded,
        staff_shell(
            *content,
            assistant_panel(),
            tenant_name=ShellState.tenant_name,
            user_name=ShellState.user_name,
            role_label=ShellState.role_label,
            branch_names=ShellState.branch_names,
            current_branch=ShellState.current_branch,
            on_branch_change=on_branch_change or ShellState.choose_branch,
            on_sign_out=AccountState.sign_out,
            chain_names=ShellState.chain_names,
            on_chain_change=AccountState.switch_chain,
            allowed_routes=ShellState.allowed_routes,
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
