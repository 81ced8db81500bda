"""Customers: search, and one customer's details and case history."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from amends.cases.selectors import customer_case_list
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.customers.selectors import customer_get_for_user, customer_search
from amends.web.decorators import staff_required
from amends.web.forms.common import valid
from amends.web.forms.customers import CustomerSearchForm, PageForm
from amends.web.partials import render_page

AUTOCOMPLETE_SIZE = 10


@staff_required
@require_GET
def customer_list_view(request: AuthedRequest) -> HttpResponse:
    form = valid(CustomerSearchForm(request.GET))
    q = form.cleaned_data["q"]
    page = paginate(
        customer_search(query=q, user=request.user), page=form.cleaned_data["page"] or 1
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "q": q, "query": query.urlencode()}
    return render_page(
        request,
        page="web/customers/list.html",
        partial="web/customers/_results.html",
        context=context,
    )


@staff_required
@require_GET
def customer_search_view(request: AuthedRequest) -> HttpResponse:
    """Autocomplete for the new-case form: the first ten matches as radio choices."""
    form = valid(CustomerSearchForm(request.GET))
    q = form.cleaned_data["q"]
    page = (
        paginate(customer_search(query=q, user=request.user), size=AUTOCOMPLETE_SIZE) if q else None
    )
    return render(request, "web/customers/_search_results.html", {"page": page, "q": q})


@staff_required
@require_GET
def customer_detail_view(request: AuthedRequest, customer_id: int) -> HttpResponse:
    customer = customer_get_for_user(customer_id=customer_id, user=request.user)
    form = valid(PageForm(request.GET))
    page = paginate(
        customer_case_list(user=request.user, customer_id=customer.pk),
        page=form.cleaned_data["page"] or 1,
    )
    context = {"customer": customer, "page": page, "query": ""}
    return render_page(
        request,
        page="web/customers/detail.html",
        partial="web/customers/_cases.html",
        context=context,
    )
