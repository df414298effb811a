from django.urls import path

from guichet.web.html import pages

app_name = "web"

urlpatterns = [
    path("", pages.index, name="index"),
    path("o/<slug:slug>/", pages.home, name="home"),
    path("o/<slug:slug>/conseils-securite/", pages.security_advice, name="security_advice"),
]
