"""The written answer to a beneficiary's request as a PDF (ANS RN 623/2024 wants the
justification of a refusal printable or downloadable).

The page uses the PDF core font, whose alphabet is Latin-1: every Portuguese letter is
there; typographic quotes and dashes are written as their plain forms, and any other
character outside it as "?", so an odd character typed by an attendant never stops the
beneficiary from getting the document."""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from atende.occurrences.models import Event, Occurrence
from atende.occurrences.selectors import CustomerView
from atende.tenancy.timezones import operator_clock

_PLAIN = str.maketrans(
    {
        "\u201c": '"',  # left and right double quotation marks, low double quote
        "\u201d": '"',
        "\u201e": '"',
        "\u2018": "'",  # left and right single quotation marks
        "\u2019": "'",
        "\u2013": "-",  # en and em dashes
        "\u2014": "-",
        "\u2026": "...",
        "\u2022": "-",
    }
)


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def justification_pdf(
    *, occurrence: Occurrence, view: CustomerView, beneficiary: str, talk: list[Event] = ()
) -> bytes:
    """The answer, and the conversation (the chat's transcript) that led to it."""
    operator = occurrence.operator

    def when(moment: datetime | None) -> str:
        return (
            ""
            if moment is None
            else f"{operator_clock(moment, operator.time_zone):%d/%m/%Y %H:%M:%S}"
        )

    if view.resolved is None:
        outcome = ""
    else:
        outcome = _("Request granted") if view.resolved else _("Request refused")
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(_("Answer to protocol %(protocol)s") % {"protocol": view.protocol}))
    pdf.set_author(_latin1(operator.name))
    pdf.set_creator("Atende")
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 8, _latin1(operator.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    if operator.ans_registration:
        pdf.cell(
            0,
            5,
            _latin1(_("ANS registration %(number)s") % {"number": operator.ans_registration}),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, _latin1(_("Answer to your request")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    rows = [
        (_("Protocol"), view.protocol),
        (_("Beneficiary"), beneficiary),
        (_("Request"), view.occurrence_type),
        (_("Subject"), view.subject or ""),
        (_("Opened on"), when(view.registered_at)),
        (_("Answered on"), when(view.closed_at)),
        (_("Status"), view.status),
        (_("Outcome"), outcome),
        (_("Reason"), view.outcome_reason or ""),
    ]
    for label, value in rows:
        if not value:
            continue
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 6, _latin1(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin1(_("Justification")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5.5, _latin1(view.outcome_text or ""), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if talk:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _latin1(_("Conversation")), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for message in talk:
        who = beneficiary if message.from_beneficiary else operator.name
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 5, _latin1(f"{when(message.at)} - {who}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 10)
        text = message.payload.get("text", "")
        names = ", ".join(f.name for f in message.files)
        if names:
            text += "\n" + _("Files: %(names)s") % {"names": names}
        pdf.multi_cell(0, 5.5, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    pdf.ln(8)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        0,
        4.5,
        _latin1(
            _("Document issued on %(moment)s by %(operator)s's service portal.")
            % {"moment": when(timezone.now()), "operator": operator.name}
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())
