from django.contrib.auth import views as auth_views
from django.urls import path

from atende.accounts import views

app_name = "accounts"

urlpatterns = [
    path("entrar/", views.LoginView.as_view(), name="login"),
    path("sair/", auth_views.LogoutView.as_view(), name="logout"),
    path("perfil/", views.profile, name="profile"),
    path("perfil/email/<str:token>/", views.email_confirm, name="email_confirm"),
    path("senha/", views.password_reset, name="password_reset"),
    path(
        "senha/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "senha/concluida/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
