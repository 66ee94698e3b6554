"""API tokens made before they were kept as digests (DRF's authtoken table, keys in plain text) become ApiTokens:
the same keys keep working, for API_TOKEN_DAYS more days, and the plain-text table is dropped."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def hash_old_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("core", "ApiToken")
    expires = timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")  # nosec B608: a constant table name
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="API token made before expiry",
            prefix=key[:6],
            digest=hashlib.sha256(key.encode()).hexdigest(),
            expires_at=expires,
        )
        for key, user_id, _created in rows
    )
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(OLD_TABLE)})


class Migration(migrations.Migration):
    dependencies = [("core", "0006_api_tokens_sso_groups")]

    operations = [migrations.RunPython(hash_old_tokens, migrations.RunPython.noop)]
