from django.urls import path

from atende.portal import views

app_name = "portal"

urlpatterns = [
    path("<str:bundle>/", views.home, name="home"),
    path("<str:bundle>/entrar/", views.sign_in, name="sign_in"),
    path("<str:bundle>/entrar/login/", views.choose, name="choose"),
    path("<str:bundle>/sair/", views.sign_out, name="sign_out"),
    path("<str:bundle>/nova/", views.new, name="new"),
    path("<str:bundle>/senha/", views.password_reset, name="password_reset"),
    path("<str:bundle>/nova-senha/", views.password_change, name="password_change"),
    path("<str:bundle>/sw.js", views.service_worker, name="service_worker"),
    path("<str:bundle>/notificacoes/", views.push_subscribe, name="push_subscribe"),
    path(
        "<str:bundle>/senha/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("<str:bundle>/<str:protocol>/", views.detail, name="detail"),
    path("<str:bundle>/<str:protocol>/resposta.pdf", views.justification, name="justification"),
    path("<str:bundle>/<str:protocol>/mensagens/", views.talk, name="talk"),
    path("<str:bundle>/<str:protocol>/anexos/<str:token>/", views.attachment, name="attachment"),
]
