"""``core/_field.html``, which draws every form field: a yes/no field puts its box before
its words (the words are its label, so a click on them ticks it); any other field has its
label above it."""

from django import forms
from django.template.loader import render_to_string


class Sample(forms.Form):
    offered = forms.BooleanField(
        label="Oferecido no portal", required=False, help_text="Aparece para o beneficiário."
    )
    name = forms.CharField(label="Nome")


def test_a_yes_no_field_has_its_box_before_its_words():
    html = render_to_string("core/_field.html", {"field": Sample()["offered"]})
    box = html.index('<input type="checkbox" name="offered"')
    label = html.index('<label for="id_offered">Oferecido no portal</label>')
    assert 'class="field checkbox"' in html
    assert box < label < html.index("Aparece para o beneficiário.")


def test_any_other_field_has_its_label_above_it():
    html = render_to_string("core/_field.html", {"field": Sample()["name"]})
    assert 'class="field"' in html
    assert html.index('<label for="id_name">Nome</label>') < html.index('<input type="text"')


def test_a_refused_yes_no_field_says_why_under_it():
    form = Sample({"offered": "on"})
    form.add_error("offered", "Só com o portal ativo.")
    html = render_to_string("core/_field.html", {"field": form["offered"]})
    assert 'class="field checkbox has-error"' in html
    assert html.index("<label") < html.index("Só com o portal ativo.")


def _described_by_is_there(html: str, name: str) -> list[str]:
    import re

    field = re.search(rf'<[^>]+name="{name}"[^>]*>', html)[0]
    ids = re.search(r'aria-describedby="([^"]+)"', field)[1].split()
    return [i for i in ids if f'id="{i}"' not in html]


def test_a_screen_reader_reads_the_help_and_the_refusal_of_a_field():
    """Django names the help's and the errors' ids in the input's aria-describedby; the
    template must give them those ids."""
    form = Sample({"offered": "x"})
    form.add_error("offered", "Só com o portal ativo.")
    html = render_to_string("core/_field.html", {"field": form["offered"]})
    assert 'aria-describedby="id_offered_helptext id_offered_error"' in html
    assert _described_by_is_there(html, "offered") == []
    assert 'id="id_offered_error"><p class="field-error">Só com o portal ativo.</p>' in html


def test_a_refused_sign_in_names_its_error_for_a_screen_reader(client, db):
    html = client.post("/conta/entrar/", {"username": "", "password": ""}).content.decode()
    assert "Este campo é obrigatório." in html
    assert _described_by_is_there(html, "username") == []
    assert _described_by_is_there(html, "password") == []
