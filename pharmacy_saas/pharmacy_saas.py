"""App assembly only: the Reflex app, its theme, every page, and the REST API at /api/v1."""

import reflex as rx

from backend.api import create_api
from pages.dashboard import dashboard_page
from pages.landing import landing_page
from pages.signin import sign_in_page
from pharmacy_saas import routes
from pharmacy_saas.state.auth import SignInState
from pharmacy_saas.state.dashboard import DashboardState

# The theme is configured in rxconfig.py (RadixThemesPlugin).
app = rx.App(api_transformer=create_api())
app.add_page(landing_page, route=routes.LANDING, title="Pharmacy Cloud")
app.add_page(
    sign_in_page,
    route=routes.SIGN_IN,
    title="Sign in · Pharmacy Cloud",
    on_load=SignInState.redirect_if_signed_in,
)
app.add_page(
    dashboard_page, route=routes.DASHBOARD, title="Dashboard · Pharmacy Cloud", on_load=DashboardState.load
)
