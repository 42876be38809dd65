"""``atende report``: the same file as the background job, or a clear error."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from atende.catalog.presets import REIMBURSEMENT
from atende.reports.params import ReportParams
from atende.reports.writer import report_write
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db


def test_the_command_writes_the_same_file(tmp_path, app_a, catalog_a, attendant_a):
    new_occurrence(user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT])
    today = timezone.localdate()
    target = tmp_path / "relatorio.txt"
    call_command(
        "report",
        "--application", str(app_a.pk),
        "--start", today.strftime("%d/%m/%Y"),
        "--end", today.strftime("%d/%m/%Y"),
        "--state", "novo,encerrado",
        "--type", str(catalog_a[REIMBURSEMENT].pk),
        "--output", str(target),
        stderr=io.StringIO(),
    )  # fmt: skip
    expected = io.StringIO(newline="")
    report_write(
        ReportParams(
            operator_id=app_a.operator_id,
            application_id=app_a.pk,
            start=today,
            end=today,
            states=(1, 4),
            type_ids=(catalog_a[REIMBURSEMENT].pk,),
        ),
        expected,
    )
    assert target.read_text(encoding="utf-8") == expected.getvalue()
    assert expected.getvalue().count("\n01;") == 1
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--start", "20/03/2025", "--end", "10/03/2025"], "^--end: O período termina antes"),
        (["--start", "2025-03-10", "--end", "20/03/2025"], "use DD/MM/AAAA"),
        (["--start", "10/03/2025", "--end", "20/03/2025", "--state", "fechado"], "Estado"),
        (["--start", "10/03/2025", "--end", "20/03/2025", "--type", "999999"], "^--type: "),
        (["--start", "10/03/2025", "--end", "31/12/9999"], "^--end: Informe uma data entre"),
    ],
)
def test_bad_parameters_exit_with_a_message(tmp_path, app_a, arguments, message):
    target = tmp_path / "relatorio.txt"
    with pytest.raises(CommandError, match=message):
        call_command("report", "--application", str(app_a.pk), *arguments, "--output", str(target))
    assert not target.exists()
