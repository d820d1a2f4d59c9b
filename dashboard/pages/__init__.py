"""The dashboard's pages, one module per area (sign-in, orders, reports, exports).

A new page: an `async def page(request) -> web.Response` in its own module here, reading the
viewer, database session and period with the helpers of `dashboard.web` (`viewer_of`,
`db_of`, `period_of`, `period_context`, `paging`) and answering with
`render(request, "its_template.html", ...)`; then one line in `dashboard.app.ROUTES`. A
template over a period starts with `_period_heading.html`; a paged table ends with
`_pager.html`.
"""
