"""The pipelines a new workspace starts with (seeded by a data migration, then edited by an
administrator): new business and renewals, each with its stages, default probabilities and forecast
categories, ending in one won and one lost stage."""

from __future__ import annotations

from typing import Any

# (name, name_en, kind, probability, forecast category)
NEW_BUSINESS: list[tuple[str, str, str, int, str]] = [
    ("线索确认", "Qualification", "open", 10, "pipeline"),
    ("需求分析", "Needs analysis", "open", 20, "pipeline"),
    ("方案报价", "Proposal", "open", 40, "best_case"),
    ("商务谈判", "Negotiation", "open", 60, "best_case"),
    ("合同审批", "Contract", "open", 80, "commit"),
    ("赢单", "Won", "won", 100, "commit"),
    ("输单", "Lost", "lost", 0, "omitted"),
]
RENEWALS: list[tuple[str, str, str, int, str]] = [
    ("续约提醒", "Renewal due", "open", 30, "pipeline"),
    ("续约洽谈", "Renewal talks", "open", 60, "best_case"),
    ("待签约", "Awaiting signature", "open", 85, "commit"),
    ("已续约", "Renewed", "won", 100, "commit"),
    ("未续约", "Not renewed", "lost", 0, "omitted"),
]
DEFAULT_PIPELINES: list[dict[str, Any]] = [
    {"name": "新业务", "name_en": "New business", "position": 1, "is_default": True, "stages": NEW_BUSINESS},
    {"name": "续约", "name_en": "Renewals", "position": 2, "is_default": False, "stages": RENEWALS},
]
