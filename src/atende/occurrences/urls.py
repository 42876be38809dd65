from django.urls import path

from atende.occurrences import views

app_name = "occurrences"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("triagem/", views.intake, name="intake"),
    path("triagem/<str:protocol>/", views.draft, name="draft"),
    path("triagem/<str:protocol>/promover/", views.promote, name="promote"),
    path("triagem/<str:protocol>/descartar/", views.discard, name="discard"),
    path("<str:protocol>/", views.detail, name="detail"),
    path("<str:protocol>/versao/", views.version, name="version"),
    path("<str:protocol>/iniciar/", views.start, name="start"),
    path("<str:protocol>/atribuir/", views.assign, name="assign"),
    path("<str:protocol>/status/", views.change_status, name="status"),
    path("<str:protocol>/liberar/", views.release, name="release"),
    path("<str:protocol>/encerrar/", views.close, name="close"),
    path("<str:protocol>/abas/<int:tab_id>/", views.fill_tab, name="fill_tab"),
    path("<str:protocol>/notas/", views.add_note, name="note"),
    path("<str:protocol>/respostas/", views.reply, name="reply"),
    path("<str:protocol>/conversa/", views.messages_list, name="conversation"),
    path("<str:protocol>/anexos/", views.add_attachment, name="attachment"),
    path("<str:protocol>/encaminhar/", views.route, name="route"),
    path("<str:protocol>/reabrir/", views.reopen, name="reopen"),
    path("<str:protocol>/filha/", views.create_child, name="child"),
]
