"""Error reporting to Sentry (or any server speaking its protocol), on when SENTRY_DSN is set.

Imported only then (config/settings/base.py), so sentry-sdk is not even loaded otherwise.
"""


def sentry_init(dsn: str, *, environment: str, release: str | None, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no user e-mails, cookies or addresses leave the site
    )
