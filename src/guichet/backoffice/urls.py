from django.urls import path

from guichet.backoffice.views import activity, members, signin

app_name = "backoffice"

urlpatterns = [
    path("", members.search_page, name="search"),
    path("connexion/", signin.login, name="login"),
    path("deconnexion/", signin.logout, name="logout"),
    path("activation/", signin.enrol, name="enrol"),
    path("comptes/<uuid:account_id>/", members.member, name="member"),
    path("comptes/<uuid:account_id>/<slug:action>/", members.act, name="act"),
    path("activite/", activity.activity, name="activity"),
]
