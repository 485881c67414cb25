"""Every route of the app in one place, so links and redirects never drift."""

LANDING = "/"
SIGN_IN = "/signin"
SIGN_UP = "/signup"
DASHBOARD = "/dashboard"
STAFF = "/staff"
SETTINGS = "/settings"
AUDIT = "/audit"
SUSPENDED = "/suspended"
ACCOUNT = "/account"
INVENTORY = "/inventory"
MEDICINE = "/inventory/medicine"
ALERTS = "/inventory/alerts"
FORGOT = "/forgot"
RESET = "/reset"
INVITE = "/invite"

# HTTP endpoints the browser navigates to (full page loads, so cookies change).
COOKIE_EXCHANGE = "/api/v1/auth/exchange"
SIGNED_OUT = "/api/v1/auth/signed-out"

PLATFORM = "/platform"
PLATFORM_SIGN_IN = "/platform/signin"
