"""The staff shell wired to ShellState, shared by every signed-in page."""

import reflex as rx

from components.layout import staff_shell
from pages.assistant_chat import assistant_panel
from pharmacy_saas.state.auth import AccountState
from pharmacy_saas.state.dashboard import ShellState


def with_shell(*content: rx.Component) -> rx.Component:
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
            on_branch_change=ShellState.choose_branch,
            on_sign_out=AccountState.sign_out,
            chain_names=ShellState.chain_names,
            on_chain_change=AccountState.switch_chain,
            show_staff=ShellState.can_manage_staff,
            show_settings=ShellState.can_open_settings,
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
