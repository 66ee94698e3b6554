"""Every sync test runs against each fake CRM of tests/integrations/fakes (FAKES), unchanged."""

import pytest

from integrations.crm.services import connection_save

from ..fakes import FAKES


@pytest.fixture(params=sorted(FAKES))
def fake(request):
    server = FAKES[request.param]()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connect(db, fake):
    """A connection to the fake (with `changes` applied to its settings)."""

    def make(name: str = "Test CRM", **changes):
        values = {**fake.settings(), **changes.pop("values", {})}
        return connection_save(vendor=fake.vendor, name=name, values=values, **changes)

    return make


def sync(connection, **params):
    """A sync as the pages and the command run it: a job, run to its end; returns the job, refreshed."""
    from integrations.crm.services import sync_job_create, sync_job_run

    job = sync_job_create(connection=connection, **params)
    sync_job_run(job=job)
    job.refresh_from_db()
    connection.refresh_from_db()
    return job
