from django.urls import path

from atende.callcenter import views

app_name = "callcenter"

CONTACT = "atendimento/<int:pk>"

urlpatterns = [
    path("atendimento/", views.home, name="home"),
    path("atendimento/buscar/", views.search, name="search"),
    path("atendimento/chamadas/", views.calls, name="calls"),
    path(f"{CONTACT}/", views.contact, name="contact"),
    path(f"{CONTACT}/protocolo/<int:occurrence_id>/", views.protocol_forms, name="protocol_forms"),
    path(f"{CONTACT}/manifestacao/<int:occurrence_id>/", views.manifestation, name="manifestation"),
    path(f"{CONTACT}/pendencia/<int:occurrence_id>/", views.pendency, name="pendency"),
    path(f"{CONTACT}/novo-evento/", views.new_event, name="new_event"),
    path(f"{CONTACT}/finalizar/", views.finish, name="finish"),
    path(f"{CONTACT}/abandonar/", views.abandon, name="abandon"),
    path(f"{CONTACT}/enviar/<int:occurrence_id>/", views.send, name="send"),
    path(f"{CONTACT}/auditoria/", views.audit, name="audit"),
    path(f"{CONTACT}/consulta/<slug:name>/", views.section, name="section"),
    path(f"{CONTACT}/senha-portal/", views.portal, name="portal"),
    path(f"{CONTACT}/dados/", views.contact_data, name="contact_data"),
    path(f"{CONTACT}/sistema-de-gestao/", views.erp, name="erp"),
    path(f"{CONTACT}/servico/<slug:slug>/", views.service, name="service"),
    # The configurator's page, with the rest of the operator's configuration.
    path("configuracao/<int:operator_id>/central/", views.settings, name="settings"),
]
