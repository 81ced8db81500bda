from django.contrib.auth import views as auth_views
from django.urls import path

from amends.web.views import cases, customers, queues

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Queues
    path("", queues.queue_view, name="queue"),
    path("mine/", queues.my_queue_view, name="my-queue"),
    path("queues/", queues.team_queues_view, name="team-queues"),
    path("queues/all/", queues.all_queue_view, name="all-queue"),
    path("queues/unrouted/", queues.unrouted_queue_view, name="unrouted-queue"),
    path("queues/team/<int:team_id>/", queues.team_queue_view, name="team-queue"),
    # Cases
    path("cases/new/", cases.case_new_view, name="case-new"),
    path("cases/<str:ref>/", cases.case_detail_view, name="case-detail"),
    path("cases/<str:ref>/panels/", cases.case_panels_view, name="case-panels"),
    path("cases/<str:ref>/acknowledge/", cases.case_acknowledge_view, name="case-acknowledge"),
    path("cases/<str:ref>/assign/", cases.case_assign_view, name="case-assign"),
    path(
        "cases/<str:ref>/await-customer/",
        cases.case_await_customer_view,
        name="case-await-customer",
    ),
    path("cases/<str:ref>/resume/", cases.case_resume_view, name="case-resume"),
    path("cases/<str:ref>/resolve/", cases.case_resolve_view, name="case-resolve"),
    path("cases/<str:ref>/close/", cases.case_close_view, name="case-close"),
    path("cases/<str:ref>/reopen/", cases.case_reopen_view, name="case-reopen"),
    path("cases/<str:ref>/update/", cases.case_update_view, name="case-update"),
    path(
        "cases/<str:ref>/steps/<str:step>/done/", cases.case_step_done_view, name="case-step-done"
    ),
    path(
        "cases/<str:ref>/steps/<str:step>/skip/", cases.case_step_skip_view, name="case-step-skip"
    ),
    path("cases/<str:ref>/messages/", cases.case_message_add_view, name="case-message-add"),
    # Customers
    path("customers/", customers.customer_list_view, name="customer-list"),
    path("customers/search/", customers.customer_search_view, name="customer-search"),
    path("customers/<int:customer_id>/", customers.customer_detail_view, name="customer-detail"),
]
