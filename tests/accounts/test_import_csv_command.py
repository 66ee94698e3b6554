import csv

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from core.models import Job

pytestmark = pytest.mark.django_db


def test_import_csv_with_mapping_reports_and_writes_the_errors_file(tmp_path, capsys):
    src = tmp_path / "companies.csv"
    src.write_text("company,staff\nAcme,10\nBeta,many\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    call_command(
        "import_csv",
        "--kind",
        "accounts",
        str(src),
        "--map",
        "company=name,external_id",
        "--map",
        "staff=employee_count",
        "--errors",
        str(errors),
    )
    out = capsys.readouterr().out
    assert "accounts: 2 rows; 1 created, 0 updated, 0 unchanged, 1 not imported." in out
    assert "line 3: employee_count: 'many' is not a whole number" in out
    # The rows as they were in the file, with their line and the reason in words.
    assert list(csv.reader(errors.open())) == [
        ["Line", "Reason not imported", "company", "staff"],
        ["3", "Employees: 'many' is not a whole number", "Beta", "many"],
    ]
    assert Account.objects.get().external_id == "Acme"
    job = Job.objects.get()
    assert (job.kind, job.status, job.done, job.total) == ("import", "succeeded", 2, 2)


def test_dry_run_writes_nothing(tmp_path, capsys):
    src = tmp_path / "a.csv"
    src.write_text("external_id,name\nA1,Acme\n", encoding="utf-8")
    call_command("import_csv", "--kind", "accounts", str(src), "--dry-run")
    assert "1 would be created" in capsys.readouterr().out
    assert Account.objects.count() == 0


def test_file_level_errors_fail_the_command_clearly(tmp_path):
    src = tmp_path / "a.csv"
    src.write_bytes("name\nCafé\n".encode("cp1252"))
    with pytest.raises(CommandError, match="a.csv: The file is not UTF-8 text"):
        call_command("import_csv", "--kind", "accounts", str(src))
    assert Job.objects.get().status == "failed"
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_csv", "--kind", "accounts", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="not COLUMN=FIELD"):
        call_command("import_csv", "--kind", "accounts", str(src), "--map", "name")
    with pytest.raises(CommandError, match="invalid choice: 'leads'"):
        call_command("import_csv", "--kind", "leads", str(src))


def test_a_mapping_without_the_key_is_refused_before_anything_runs(tmp_path):
    src = tmp_path / "a.csv"
    src.write_text("company,staff\nAcme,10\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("import_csv", "--kind", "accounts", str(src), "--map", "company=name")
    message = str(refused.value)
    assert "No column identifies each account: choose the column for Account ID or Domain" in message
    assert "--map COLUMN=FIELD" in message  # the command line's own wording, on the command line only
    assert Job.objects.count() == 0 and Account.objects.count() == 0
