"""Steps every journey takes: logging in through the login page, and where screenshots go."""

from pathlib import Path

SHOTS = Path(__file__).resolve().parent.parent.parent / ".test-media" / "journeys"
PASSWORD = "pw-for-tests"  # the factories' password


def log_in(page, live_server, username: str) -> None:
    """Through the login page, as a user would; lands on the home page."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
