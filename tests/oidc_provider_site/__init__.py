"""A tiny, real OpenID provider (django-oidc-provider) for the single sign-on tests: its own settings, URLs and SQLite
file, started as a subprocess on a free port by `process.start_provider`."""
