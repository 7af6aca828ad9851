"""One Jinja environment (autoescaped, with gettext) shared by JinjaX components and Litestar.

Pages and fragments are JinjaX components under ``templates/components``. Components reach the
request-wide values (signed-in user, current tenant, CSRF token, language, flash messages) through
the ``page()`` global, which reads a context variable set for the current request.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinjax
from jinja2 import Environment, pass_context, select_autoescape
from jinja2.runtime import Context
from litestar import Request, Response
from litestar.enums import MediaType
from markupsafe import Markup

from portal.core import i18n
from portal.core.labels import kind_label, role_label
from portal.core.navigation import nav_for
from portal.core.settings import PROJECT_ROOT

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


@dataclass
class PageContext:
    """What the layout needs about the current request."""

    path: str = "/"
    query: str = ""
    csrf_token: str = ""
    language: str = i18n.DEFAULT_LANGUAGE
    user: dict | None = None
    memberships: list[dict] = field(default_factory=list)
    tenant: dict | None = None
    role: str | None = None
    flashes: list[dict] = field(default_factory=list)
    is_htmx: bool = False


_current_page: ContextVar[PageContext] = ContextVar("current_page", default=PageContext())


def set_page_context(context: PageContext) -> None:
    _current_page.set(context)


def current_page() -> PageContext:
    return _current_page.get()


def defang_url(url: str) -> str:
    """Show a reported URL so that no viewer, mail client or chat turns it into a live link."""
    return url.replace("http://", "hxxp://").replace("https://", "hxxps://").replace(".", "[.]")


def query_with(**changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination and filters)."""
    params = dict(parse_qsl(current_page().query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


# Jinja's own newstyle callables fill placeholders themselves; these do the same through
# ``i18n.fill`` so that names ending in a full stop get no second one in templates either.
@pass_context
def _template_gettext(context: Context, message: str, **values: Any) -> str:
    text = i18n.translations_for(i18n.current_language.get()).gettext(message)
    return i18n.fill(Markup(text) if context.eval_ctx.autoescape else text, values)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int, **values: Any) -> str:
    values.setdefault("num", num)
    text = i18n.translations_for(i18n.current_language.get()).ngettext(singular, plural, num)
    return i18n.fill(Markup(text) if context.eval_ctx.autoescape else text, values)


def _build_catalog() -> jinjax.Catalog:
    env = Environment(
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True)
    env.globals.update(
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        page=current_page,
        defang=defang_url,
        query_with=query_with,
        local_datetime=i18n.local_datetime,
        local_date=i18n.local_date,
        languages=i18n.LANGUAGES,
        kind_label=kind_label,
        role_label=role_label,
        nav_items=nav_for,
    )
    catalog = jinjax.Catalog(jinja_env=env, root_url="/static/components/")
    catalog.add_folder(TEMPLATES_DIR / "components")
    return catalog


catalog = _build_catalog()


def render(component: str, **values: Any) -> str:
    return catalog.render(component, **values)


def page(request: Request, component: str, *, status_code: int = 200, **values: Any) -> Response:
    """Render a page component (or, for htmx, whatever component the handler names) as HTML."""
    html = render(component, **values)
    return Response(content=html, media_type=MediaType.HTML, status_code=status_code)

