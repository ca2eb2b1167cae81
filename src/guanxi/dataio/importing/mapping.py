"""Column mapping: which header feeds which field, guessed from common Chinese and English headers,
editable, and remembered per source as a template (``MappingTemplate``)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from guanxi.dataio.importing.readers import FileRejected, Sheet, column_letter


@dataclass(frozen=True)
class Target:
    key: str
    zh: str
    en: str
    multi: bool = False  # several columns may feed it (phones: 手机, 电话2 …)


# Fields per kind. "customer.*" fields live on the customer, "contact.*" on its contact.
TARGETS: dict[str, list[Target]] = {
    "customers": [
        Target("customer.name", "客户名称", "customer name"),
        Target("customer.short_name", "简称", "short name"),
        Target("customer.kind", "客户类型", "customer kind"),
        Target("customer.industry", "行业", "industry"),
        Target("customer.province", "省", "province"),
        Target("customer.city", "市", "city"),
        Target("customer.district", "区", "district"),
        Target("customer.address", "地址", "address"),
        Target("customer.phone", "公司电话", "company phone"),
        Target("customer.email", "公司邮箱", "company e-mail"),
        Target("customer.website", "网站", "website"),
        Target("customer.status", "状态", "status"),
        Target("customer.relationship_type", "关系类型", "relationship type"),
        Target("customer.lead_source", "来源", "source"),
        Target("customer.notes", "备注", "notes"),
        Target("customer.tags", "标签", "tags"),
        Target("contact.name", "联系人", "contact name"),
        Target("contact.title", "职务", "job title"),
        Target("contact.department", "部门", "department"),
        Target("contact.phones", "手机/电话", "phone", multi=True),
        Target("contact.emails", "邮箱", "e-mail", multi=True),
        Target("contact.wechat_id", "微信", "WeChat"),
        Target("contact.gender", "性别", "gender"),
        Target("contact.birthday", "生日", "birthday"),
        Target("contact.notes", "联系人备注", "contact notes"),
    ],
    "contacts": [
        Target("customer.name", "客户名称", "customer name"),
        Target("contact.name", "姓名", "name"),
        Target("contact.title", "职务", "job title"),
        Target("contact.department", "部门", "department"),
        Target("contact.phones", "手机/电话", "phone", multi=True),
        Target("contact.emails", "邮箱", "e-mail", multi=True),
        Target("contact.wechat_id", "微信", "WeChat"),
        Target("contact.gender", "性别", "gender"),
        Target("contact.birthday", "生日", "birthday"),
        Target("contact.notes", "备注", "notes"),
    ],
    "interactions": [
        Target("customer.name", "客户名称", "customer name"),
        Target("interaction.occurred_at", "时间", "date/time"),
        Target("interaction.channel", "渠道", "channel"),
        Target("interaction.summary", "内容摘要", "summary"),
        Target("interaction.outcome", "结果", "outcome"),
        Target("interaction.next_step", "下一步", "next step"),
    ],
    "orders": [
        Target("customer.name", "客户名称", "customer name"),
        Target("order.number", "订单号", "order number"),
        Target("order.ordered_on", "下单日期", "order date"),
        Target("order.status", "订单状态", "order status"),
        Target("order.notes", "备注", "notes"),
        Target("line.product", "产品编码", "product code"),
        Target("line.quantity", "数量", "quantity"),
        Target("line.unit_price", "单价", "unit price"),
        Target("order.amount", "金额", "amount"),
    ],
    "products": [
        Target("product.code", "编码", "code"),
        Target("product.name", "名称", "name"),
        Target("product.category", "类别", "category"),
        Target("product.unit", "单位", "unit"),
        Target("product.price", "单价", "price"),
    ],
}

# Header spellings seen in Excel sheets, other CRMs' exports and phone address books.
ALIASES: dict[str, list[str]] = {
    "customer.name": [
        "客户名称",
        "客户",
        "客户名",
        "公司",
        "公司名称",
        "单位",
        "单位名称",
        "企业名称",
        "company",
        "customer",
        "customer name",
        "account",
        "account name",
        "organization",
        "org",
    ],
    "customer.short_name": ["简称", "客户简称", "short name"],
    "customer.kind": ["客户类型", "类型", "kind", "type"],
    "customer.industry": ["行业", "所属行业", "industry"],
    "customer.province": ["省", "省份", "所在省", "province", "state"],
    "customer.city": ["市", "城市", "所在城市", "city"],
    "customer.district": ["区", "区县", "县区", "district", "county"],
    "customer.address": ["地址", "详细地址", "公司地址", "通讯地址", "address", "street"],
    "customer.phone": ["公司电话", "座机", "固话", "总机", "company phone", "main phone", "office phone"],
    "customer.email": ["公司邮箱", "company email"],
    "customer.website": ["网站", "网址", "官网", "website", "web", "url"],
    "customer.status": ["状态", "客户状态", "status"],
    "customer.relationship_type": ["关系类型", "客户关系", "relationship"],
    "customer.lead_source": ["来源", "客户来源", "线索来源", "source", "lead source"],
    "customer.notes": ["备注", "说明", "notes", "note", "remark", "remarks", "comment", "comments"],
    "customer.tags": ["标签", "tags", "tag"],
    "contact.name": ["联系人", "联系人姓名", "姓名", "名字", "contact", "contact name", "name", "full name"],
    "contact.title": ["职务", "职位", "头衔", "title", "job title", "position"],
    "contact.department": ["部门", "department", "dept"],
    "contact.phones": [
        "手机/电话",
        "电话/手机",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "电话号码",
        "移动电话",
        "联系方式",
        "电话2",
        "电话3",
        "mobile",
        "phone",
        "cell",
        "telephone",
        "tel",
        "mobile phone",
        "phone 2",
    ],
    "contact.emails": ["邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail", "email address"],
    "contact.wechat_id": ["微信", "微信号", "wechat", "wechat id", "weixin"],
    "contact.gender": ["性别", "gender", "sex"],
    "contact.birthday": ["生日", "出生日期", "birthday", "birth date", "date of birth"],
    "contact.notes": ["联系人备注", "contact notes"],
    "interaction.occurred_at": [
        "时间",
        "日期",
        "联系时间",
        "拜访时间",
        "跟进时间",
        "date",
        "time",
        "occurred at",
    ],
    "interaction.channel": ["渠道", "方式", "联系方式", "跟进方式", "channel"],
    "interaction.summary": ["内容", "内容摘要", "摘要", "跟进内容", "记录", "summary", "content"],
    "interaction.outcome": ["结果", "outcome", "result"],
    "interaction.next_step": ["下一步", "下步计划", "next step"],
    "order.number": ["订单号", "订单编号", "单号", "order number", "order no", "order"],
    "order.ordered_on": ["下单日期", "订单日期", "日期", "order date", "date"],
    "order.status": ["订单状态", "状态", "order status", "status"],
    "order.notes": ["备注", "notes"],
    "order.amount": ["金额", "订单金额", "总金额", "amount", "total"],
    "line.product": ["产品编码", "产品", "商品编码", "product", "product code", "sku"],
    "line.quantity": ["数量", "quantity", "qty"],
    "line.unit_price": ["单价", "unit price", "price"],
    "product.code": ["编码", "产品编码", "商品编码", "code", "sku"],
    "product.name": ["名称", "产品名称", "商品名称", "name", "product name"],
    "product.category": ["类别", "分类", "category"],
    "product.unit": ["单位", "unit"],
    "product.price": ["单价", "价格", "售价", "price"],
}


def _norm(header: str) -> str:
    return re.sub(r"[\s_:：*（）()]+", " ", unicodedata.normalize("NFKC", header)).strip().lower()


def targets_for(kind: str) -> list[Target]:
    return TARGETS[kind]


def guess_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{header: target key}; a header nothing matches is left out (ignored unless the user maps it)."""
    allowed = {t.key: t for t in TARGETS[kind]}
    lookup: dict[str, str] = {}
    for key in allowed:
        for alias in ALIASES.get(key, []):
            lookup.setdefault(_norm(alias), key)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        found = lookup.get(_norm(header))
        if found is None:
            continue
        key = found
        if key in taken and not allowed[key].multi:
            continue
        mapping[header] = key
        taken.add(key)
    # A customers sheet without a company column but with a person's name: each row is a person.
    if kind == "customers" and "customer.name" not in taken and "contact.name" in taken:
        mapping = {h: ("customer.name" if k == "contact.name" else k) for h, k in mapping.items()}
    return mapping


def source_key(headers: list[str]) -> str:
    """A stable fingerprint of a header row, so the next file from the same source reuses the template."""
    joined = "\x1f".join(_norm(h) for h in headers)
    return "headers:" + hashlib.sha256(joined.encode()).hexdigest()[:16]


REQUIRED = {
    "customers": "customer.name",
    "contacts": "contact.name",
    "interactions": "interaction.summary",
    "orders": "order.number",
    "products": "product.code",
}


def missing_required(mapping: dict[str, str], kind: str) -> list[str]:
    return [] if REQUIRED[kind] in mapping.values() else [REQUIRED[kind]]


def check_headers(sheet: Sheet, mapping: dict[str, str], kind: str, *, require_all: bool = True) -> None:
    """Duplicate and empty headers, and a mapping to unknown fields, are refused by column; a missing
    required column too, unless this is a preview (where the user is about to map it)."""
    details = []
    seen: dict[str, int] = {}
    for index, header in enumerate(sheet.headers):
        if not header:
            if any(index < len(r) and r[index].strip() for r in sheet.rows):
                details.append(
                    {
                        "row": sheet.first_row - 1,
                        "column": column_letter(index),
                        "message": "空表头的列里有数据 / a column without a header holds data",
                    }
                )
            continue
        if header in seen:
            details.append(
                {
                    "row": sheet.first_row - 1,
                    "column": column_letter(index),
                    "message": f"表头「{header}」与第 {column_letter(seen[header])} 列重复 / "
                    f"duplicate header "
                    f"{header!r} (also column {column_letter(seen[header])})",
                }
            )
        seen.setdefault(header, index)
    allowed = {t.key: t for t in TARGETS[kind]}
    used: dict[str, str] = {}
    for header, key in mapping.items():
        if key not in allowed:
            details.append({"column": header, "message": f"未知字段 / unknown field: {key}"})
        elif header not in seen:
            details.append({"column": header, "message": "文件里没有这一列 / no such column in the file"})
        elif key in used and not allowed[key].multi:
            details.append(
                {
                    "column": header,
                    "message": f"「{used[key]}」已映射到 {key} / {used[key]!r} already maps to {key}",
                }
            )
        used.setdefault(key, header)
    required = REQUIRED[kind]
    if require_all and required not in used:
        details.append({"message": f"缺少必需的列 / a required column is not mapped: {required}"})
    if details:
        raise FileRejected(
            "表头有问题，请检查列映射",
            "the header row has problems; check the column mapping",
            code="bad_headers",
            details=details,
        )
