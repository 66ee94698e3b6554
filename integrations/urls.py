"""The integrations' pages, under /integrations/ (admins configure them)."""

app_name = "integrations"

urlpatterns: list = []
