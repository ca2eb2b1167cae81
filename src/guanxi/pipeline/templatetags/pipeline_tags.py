"""Template filters and tags of the pipeline pages."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from guanxi.pipeline.models import ForecastCategory

if TYPE_CHECKING:
    from guanxi.pipeline.forecast import Figures

register = template.Library()


@register.filter
def money(value: Decimal | int | float | None) -> str:
    """Whole yuan with thousands separators (1,234,567): the forecast shows hundreds of figures,
    and ``floatformat:"0g"`` (locale-aware) was a fifth of its rendering time."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.0f}"


def _figure_labels() -> dict[str, str]:
    return {
        key: escape(text)
        for key, text in (
            # The forecast categories' own labels (承诺 with its context: not the promise log's).
            ("commit", str(ForecastCategory.COMMIT.label)),
            ("best_case", str(ForecastCategory.BEST_CASE.label)),
            ("pipeline", str(ForecastCategory.PIPELINE.label)),
            ("weighted", gettext("加权")),
            ("won", gettext("赢单")),
            ("forecast_commit", gettext("期初承诺")),
            ("accuracy", gettext("准确率")),
        )
    }


_LABELS_KEY = "pipeline_tags.figure_labels"


@register.simple_tag(takes_context=True)
def forecast_figures(context: template.Context, figures: Figures) -> SafeString:
    """One cell of the forecast: its figures as a ``<dl>``. Built here, not by including a template
    per cell: a manager's forecast has a cell per salesperson and period (~400 at 100 salespeople),
    and the include with its seven translate tags each was most of the page's rendering time. The
    labels are translated and escaped once per page; the figures are numbers formatted here."""
    labels = context.render_context.get(_LABELS_KEY)
    if labels is None:
        labels = context.render_context[_LABELS_KEY] = _figure_labels()
    parts = ['<dl class="figures">']
    for key in ("commit", "best_case", "pipeline", "weighted"):
        parts.append(f"<dt>{labels[key]}</dt><dd>¥{money(getattr(figures, key))}</dd>")
    parts.append(f"<dt>{labels['won']}</dt><dd><strong>¥{money(figures.won)}</strong></dd>")
    if figures.forecast_commit is not None:
        parts.append(f"<dt>{labels['forecast_commit']}</dt><dd>¥{money(figures.forecast_commit)}</dd>")
        if figures.accuracy is not None:
            parts.append(f"<dt>{labels['accuracy']}</dt><dd>{figures.accuracy * 100:.0f}%</dd>")
    parts.append("</dl>")
    return mark_safe("".join(parts))  # noqa: S308 - escaped labels and formatted numbers only
