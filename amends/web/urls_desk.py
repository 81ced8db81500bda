from django.urls import path

from amends.web.views import desk

# Included before the cases URLs: "cases/bulk/" is not a case reference.
urlpatterns = [
    path("cases/bulk/", desk.case_bulk_view, name="case-bulk"),
    path("approvals/bulk/", desk.approval_bulk_view, name="approval-bulk"),
    path("cases/<str:ref>/tags/", desk.case_tags_view, name="case-tags"),
    path("cases/<str:ref>/merge/", desk.case_merge_view, name="case-merge"),
    path("cases/<str:ref>/presence/", desk.case_presence_view, name="case-presence"),
    path(
        "cases/<str:ref>/canned-replies/fill/",
        desk.case_canned_fill_view,
        name="case-canned-fill",
    ),
    path(
        "customers/<int:customer_id>/handling/",
        desk.customer_handling_view,
        name="customer-handling",
    ),
]
