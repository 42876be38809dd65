from django.urls import path

from atende.occurrences.views import intake
from atende.registrations import views

app_name = "registrations"

urlpatterns = [
    # The one intake queue of every kind of draft, under the RA's address too.
    path("registros/", intake, {"registrations": True}, name="intake"),
    path("registros/novo/", views.insert, name="insert"),
    path("registros/novo/simplificado/", views.insert_simplified, name="insert_simplified"),
    path("registros/tramitar/", views.route_many, name="route"),
    path("registros/numeracao-manual/", views.manual_blocks, name="manual_blocks"),
    path("registros/encerramento/", views.batch_closings, name="batch_closings"),
    path("registros/encerramento/<int:pk>/", views.batch_closing, name="batch_closing"),
    path("registros/ocorrencias-operacionais/", views.incidents, name="incidents"),
    path("registros/ocorrencias-operacionais/<int:pk>/", views.incident, name="incident"),
    path("registros/triagem/<str:protocol>/", views.draft, name="draft"),
    path("registros/triagem/<str:protocol>/abrir/", views.draft_open, name="draft_open"),
    path("registros/triagem/<str:protocol>/anexar/", views.draft_join, name="draft_attach"),
    path("registros/triagem/<str:protocol>/descartar/", views.draft_drop, name="draft_discard"),
    path("registros/<str:protocol>/painel/", views.panel, name="panel"),
    path("registros/<str:protocol>/solicitantes/", views.requester_new, name="requester_new"),
    path(
        "registros/<str:protocol>/solicitantes/<int:pk>/",
        views.requester_edit,
        name="requester_edit",
    ),
    path("registros/<str:protocol>/local/", views.place_edit, name="place"),
    path("registros/<str:protocol>/dados-gerais/", views.general_edit, name="general"),
    path("registros/<str:protocol>/ordens/", views.order_new, name="order_new"),
    path("registros/<str:protocol>/reativar/", views.reactivate, name="reactivate"),
    path("registros/ordens-de-servico/", views.orders, name="orders"),
    path("registros/ordens-de-servico/<int:pk>/", views.order, name="order"),
    path("registros/pop/<str:token>/", views.procedure_download, name="procedure_file"),
    path("configuracao/<int:operator_id>/registros/", views.settings, name="settings"),
    path(
        "configuracao/<int:operator_id>/registros/servicos/",
        views.service_types,
        name="service_types",
    ),
    path(
        "configuracao/<int:operator_id>/registros/pop/<int:subject_id>/",
        views.procedure,
        name="procedure",
    ),
    path("configuracao/<int:operator_id>/registros/localidades/nova/", views.rule, name="rule_new"),
    path(
        "configuracao/<int:operator_id>/registros/localidades/<int:pk>/",
        views.rule,
        name="rule_edit",
    ),
]
