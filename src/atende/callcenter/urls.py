from django.urls import path

from atende.callcenter import views

app_name = "callcenter"

urlpatterns = [
    path("", views.home, name="home"),
    path("buscar/", views.search, name="search"),
    path("chamadas/", views.calls, name="calls"),
    path("<int:pk>/", views.contact, name="contact"),
    path("<int:pk>/manifestacao/<int:occurrence_id>/", views.manifestation, name="manifestation"),
    path("<int:pk>/pendencia/<int:occurrence_id>/", views.pendency, name="pendency"),
    path("<int:pk>/novo-evento/", views.new_event, name="new_event"),
    path("<int:pk>/finalizar/", views.finish, name="finish"),
    path("<int:pk>/abandonar/", views.abandon, name="abandon"),
    path("<int:pk>/enviar/<int:occurrence_id>/", views.send, name="send"),
    path("<int:pk>/auditoria/", views.audit, name="audit"),
    path("<int:pk>/consulta/<slug:name>/", views.section, name="section"),
]
