"""The compiled pt-BR catalog must match its source, or the screens show English."""

import ast
import gettext
import re
import shutil
import subprocess

import pytest
from django.conf import settings

PO = settings.LOCALE_PATHS[0] / "pt_BR" / "LC_MESSAGES" / "django.po"


def _po_entries() -> dict[tuple[str | None, str], str]:
    """(context, msgid) → msgstr: one msgid may mean two things in two contexts."""
    entries, current, key = {}, {}, None
    for line in [*PO.read_text().splitlines(), ""]:
        if line.startswith(("msgctxt ", "msgid ", "msgstr ")):
            key, rest = line.split(" ", 1)
            current[key] = ast.literal_eval(rest)
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        elif not line.strip():
            if current.get("msgid"):
                entries[(current.get("msgctxt"), current["msgid"])] = current.get("msgstr", "")
            current, key = {}, None
    return entries


def test_every_string_has_a_portuguese_translation():
    missing = [msgid for msgid, msgstr in _po_entries().items() if not msgstr]
    assert missing == []


def test_the_compiled_catalog_matches_the_source():
    catalog = gettext.GNUTranslations(PO.with_suffix(".mo").open("rb"))
    for (context, msgid), msgstr in _po_entries().items():
        found = catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)
        assert found == msgstr, (context, msgid)


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext not installed")
def test_the_catalog_is_well_formed():
    result = subprocess.run(
        ["msgfmt", "--check", "-o", "/dev/null", str(PO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert not re.search(r"fuzzy", PO.read_text())
