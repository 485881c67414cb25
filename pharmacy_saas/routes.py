"""Every route of the app in one place, so links and redirects never drift."""

LANDING = "/"
SIGN_IN = "/signin"
DASHBOARD = "/dashboard"
