import logging

from atende.core.logging import MASK, RedactPersonalData, redact


def test_cpf_cnpj_and_email_are_masked():
    text = redact("CPF 123.456.789-09, cpf 12345678909, CNPJ 11.222.333/0001-81, a@b.com.br")
    assert "123.456.789-09" not in text
    assert "12345678909" not in text
    assert "11.222.333/0001-81" not in text
    assert "a@b.com.br" not in text
    assert text.count(MASK) == 4


def test_protocol_numbers_are_not_mistaken_for_personal_data():
    protocol = "41750520240603701646"
    assert redact(f"protocolo {protocol}") == f"protocolo {protocol}"


def test_filter_rewrites_formatted_records():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "busca por %s", ("123.456.789-09",), None
    )
    RedactPersonalData().filter(record)
    assert record.getMessage() == f"busca por {MASK}"


def test_password_reset_links_lose_their_user_and_token():
    text = redact("GET /portal/br.com.a/senha/MTIz/cbz1a2-0123abcdef/ e /conta/senha/concluida/")
    assert text == f"GET /portal/br.com.a/senha/{MASK}/ e /conta/senha/concluida/"
