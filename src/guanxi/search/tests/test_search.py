"""Chinese-first search: the same results on SQLite and PostgreSQL (the suite runs on both)."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Customer
from guanxi.customers.selectors import CustomerFilters, contact_list, customer_list
from guanxi.engagement.selectors import interaction_list
from guanxi.search.documents import build, parse_query
from guanxi.search.pinyin import sort_key, syllables
from guanxi.testing.factories import UserFactory, make_contact, make_customer, make_interaction


def names(page):
    return sorted(c.name for c in page.items)


@pytest.fixture
def data(db):
    owner = UserFactory()
    other = UserFactory()
    huawei = make_customer(owner, name="华为技术有限公司", city="深圳", phone="0755-28780808")
    make_customer(owner, name="华润万家超市", city="深圳")
    make_customer(owner, name="北京同仁堂股份有限公司", city="北京")
    zeng = make_customer(owner, name="曾伟", kind="person")
    make_customer(other, name="华为终端有限公司")  # not visible to owner
    zhang = make_contact(huawei, name="张伟", phones=["139 0013 9000"], emails=["zhang.wei@huawei.com"])
    make_contact(huawei, name="单田芳", phones=["+86 21 5555 1234"])
    make_interaction(huawei, summary="客户投诉交货延迟，要求重新报价")
    make_interaction(zeng, summary="签订合同，约定下月交货")
    return owner, other, huawei, zhang


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("华为", ["华为技术有限公司"]),  # 2-character fragment: FTS5 trigram and pg_trgm both miss this
        ("华", ["华为技术有限公司", "华润万家超市"]),  # one character
        ("同仁堂", ["北京同仁堂股份有限公司"]),
        ("huawei", ["华为技术有限公司"]),  # full pinyin
        ("huaw", ["华为技术有限公司"]),  # pinyin prefix
        ("hw", ["华为技术有限公司"]),  # initials
        ("jishu", ["华为技术有限公司"]),  # pinyin of a word inside the name
        ("tongren", ["北京同仁堂股份有限公司"]),
        ("trt", ["北京同仁堂股份有限公司"]),  # initials of a word inside the name
        ("zeng", ["曾伟"]),  # surname table: 曾 is zeng, not ceng
        ("ceng", []),
        ("28780808", ["华为技术有限公司"]),  # phone digits
        ("0808", ["华为技术有限公司"]),  # phone suffix
        ("深圳", ["华为技术有限公司", "华润万家超市"]),  # region
        ("华为 深圳", ["华为技术有限公司"]),  # every term must match
        ("不存在", []),
    ],
)
def test_customer_search(data, query, expected):
    owner = data[0]
    assert names(customer_list(user=owner, filters=CustomerFilters(q=query))) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张伟", ["张伟"]),
        ("zhangwei", ["张伟"]),
        ("zw", ["张伟"]),
        ("shan", ["单田芳"]),  # 单 as a surname reads shan
        ("stf", ["单田芳"]),
        ("13900139000", ["张伟"]),
        ("0013", ["张伟"]),
        ("9000", ["张伟"]),
        ("55551234", ["单田芳"]),
        ("zhang.wei@huawei.com", ["张伟"]),
        ("zhang.wei", ["张伟"]),
    ],
)
def test_contact_search(data, query, expected):
    owner = data[0]
    assert names(contact_list(user=owner, q=query)) == expected


def test_interaction_notes_are_searchable_by_two_character_words(data):
    owner = data[0]
    assert [i.summary for i in interaction_list(user=owner, q="投诉").items] == [
        "客户投诉交货延迟，要求重新报价"
    ]
    assert len(interaction_list(user=owner, q="交货").items) == 2
    assert [i.summary for i in interaction_list(user=owner, q="合同").items] == ["签订合同，约定下月交货"]


def test_search_respects_visibility(data):
    owner, other = data[0], data[1]
    assert names(customer_list(user=other, filters=CustomerFilters(q="华为"))) == ["华为终端有限公司"]
    assert contact_list(user=other, q="张伟").items == []
    assert interaction_list(user=other, q="投诉").items == []
    assert "华为终端有限公司" not in names(customer_list(user=owner, filters=CustomerFilters(q="华为")))


def test_query_with_only_punctuation_finds_nothing(data):
    owner = data[0]
    assert customer_list(user=owner, filters=CustomerFilters(q="！！@@")).items == []


def test_list_sorts_by_pinyin_with_heteronymous_surnames(db):
    owner = UserFactory()
    for name in ["曾伟", "陈明", "单强", "蔡华", "石磊", "解放"]:
        make_customer(owner, name=name, kind="person")
    page = customer_list(user=owner, filters=CustomerFilters(sort="name"))
    # 蔡 cai < 陈 chen < 单 shan < 石 shi < 解 xie < 曾 zeng
    assert [c.name for c in page.items] == ["蔡华", "陈明", "单强", "石磊", "解放", "曾伟"]


def test_sort_key_is_ascii_and_reads_surnames():
    assert syllables("曾伟", person=True) == ["zeng", "wei"]
    assert syllables("单于", person=True) == ["shan", "yu"]  # surname 单 + given name 于
    assert syllables("单于明", person=True) == ["chan", "yu", "ming"]  # compound surname 单于
    assert syllables("仇明", person=True) == ["qiu", "ming"]
    assert syllables("重庆啤酒") == ["chong", "qing", "pi", "jiu"]
    key = sort_key("曾伟", person=True)
    assert key.isascii() and key.startswith("zeng.wei..")


def test_document_is_plain_ascii_tokens():
    doc = build(names=["华为"], phones=["13900139000"], emails=["a.b@c.cn"])
    assert doc.isascii()
    assert "u534eu4e3a" in doc.split() and "hw" in doc.split() and "139000" in doc.split()


def test_parse_query_uses_bigrams_for_long_chinese_runs():
    terms = parse_query("华为技术")
    assert [t.prefix for t in terms] == [False, False, False]
    assert len(terms) == 3
    assert all(t.prefix for t in parse_query("zw 0139"))


def test_rebuild_search_command_restores_stale_documents(data):
    from django.core.management import call_command

    from guanxi.customers.models import Customer

    owner = data[0]
    Customer.objects.update(search_doc="", sort_key="")
    assert customer_list(user=owner, filters=CustomerFilters(q="华为")).items == []
    call_command("rebuild_search", batch=100, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert names(customer_list(user=owner, filters=CustomerFilters(q="华为"))) == ["华为技术有限公司"]


@pytest.mark.parametrize("batch_max", [1, 12_800])
def test_note_search_pages_through_every_match_newest_first(data, monkeypatch, batch_max):
    from guanxi.engagement import selectors as engagement_selectors
    from guanxi.engagement.models import Interaction

    monkeypatch.setattr(engagement_selectors, "NOTE_BATCH_MAX", batch_max)
    owner, other, huawei, _ = data
    hidden = Customer.objects.get(owner=other)
    for i in range(7):
        make_interaction(huawei, summary=f"第{i}次报价" if i % 2 else f"第{i}次拜访")
        make_interaction(hidden, summary=f"第{i}次报价")  # matches the owner must not see
    expected = list(
        Interaction.objects.filter(customer__owner=owner, summary__contains="报价")
        .order_by("-id")
        .values_list("id", flat=True)
    )
    seen, cursor = [], None
    while True:
        page = interaction_list(user=owner, q="报价", cursor=cursor, size=2)
        seen += [i.pk for i in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected and len(expected) == 4


def _found(user, query):
    from guanxi.search.selectors import search_all

    r = search_all(user=user, query=query)
    return {k: [x["name"] for x in getattr(r, k)] for k in ("customers", "contacts", "interactions")}


def test_visibility_keys_follow_a_reassigned_customer_into_the_index(world):
    from guanxi.audit.models import Source
    from guanxi.customers.models import Contact
    from guanxi.customers.services import customer_update
    from guanxi.engagement.models import Interaction

    alice, bob, charlie = world.owner, world.teammate, world.outsider
    assert _found(alice, "报价")["interactions"] and _found(alice, "zw")["contacts"] == ["张伟"]
    assert _found(charlie, "报价") == {"customers": [], "contacts": [], "interactions": []}
    customer_update(actor=world.admin, source=Source.UI, customer=world.customer, owner=charlie)
    keys = f"o{charlie.pk} t{world.north.pk}"
    assert Customer.objects.get(pk=world.customer.pk).search_scope == keys
    assert set(Contact.objects.filter(customer=world.customer).values_list("search_scope", flat=True)) == {
        keys
    }
    assert set(
        Interaction.objects.filter(customer=world.customer).values_list("search_scope", flat=True)
    ) == {keys}
    now = _found(charlie, "华为")
    assert now["customers"] == ["华为技术有限公司"] and _found(charlie, "zhangwei")["contacts"] == ["张伟"]
    assert _found(charlie, "报价")["interactions"]
    assert _found(alice, "华为") == {"customers": [], "contacts": [], "interactions": []}
    assert _found(alice, "报价")["interactions"] == []
    # The new team's manager is not charlie's (north has none); the old one no longer sees it.
    assert _found(world.manager, "报价")["interactions"] == []
    assert _found(bob, "报价")["interactions"] == []


def test_team_and_share_branches_find_notes_and_contacts(world):
    from guanxi.audit.models import Source
    from guanxi.customers.services import customer_share

    assert _found(world.manager, "报价")["interactions"]  # team key t<east>
    assert _found(world.manager, "zw")["contacts"] == ["张伟"]
    assert _found(world.teammate, "报价")["interactions"] == []
    customer_share(actor=world.owner, source=Source.UI, customer=world.customer, user=world.teammate)
    assert _found(world.teammate, "报价")["interactions"]  # the share branch: key u<teammate>
    assert _found(world.teammate, "zw")["contacts"] == ["张伟"]
    assert _found(world.admin, "报价")["interactions"]


def test_a_share_puts_the_grantees_keys_on_every_row_and_an_unshare_removes_them(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.audit.models import Source
    from guanxi.customers.models import Contact, CustomerShare
    from guanxi.customers.services import customer_share, customer_unshare
    from guanxi.engagement.models import Interaction

    customer = world.customer

    def scopes() -> set[str]:
        rows = [Customer.objects.get(pk=customer.pk).search_scope]
        rows += Contact.objects.filter(customer=customer).values_list("search_scope", flat=True)
        rows += Interaction.objects.filter(customer=customer).values_list("search_scope", flat=True)
        return set(rows)

    plain = scopes()
    (base,) = plain
    assert base == f"o{world.owner.pk} t{world.east.pk}"
    share = customer_share(actor=world.owner, source=Source.UI, customer=customer, user=world.teammate)
    assert scopes() == {f"{base} u{world.teammate.pk}"}
    customer_share(actor=world.owner, source=Source.UI, customer=customer, team=world.east)
    assert scopes() == {f"{base} u{world.teammate.pk} s{world.east.pk}"}
    # The grantee's rows are found through the index by their keys, not read one by one.
    with CaptureQueriesContext(connection) as ctx:
        assert _found(world.teammate, "报价")["interactions"]
    notes = [q["sql"] for q in ctx.captured_queries if "engagement_interaction" in q["sql"]]
    assert notes and not any(" LIKE " in sql for sql in notes)
    assert _found(world.teammate, "zw")["contacts"] == ["张伟"]
    customer_unshare(actor=world.owner, source=Source.UI, customer=customer, share_id=share.pk)
    assert scopes() == {f"{base} s{world.east.pk}"}  # still shared with the team
    assert _found(world.teammate, "报价")["interactions"]  # a member of it
    CustomerShare.objects.filter(customer=customer).delete()  # however a share goes (a cascade…)
    assert scopes() == plain
    assert _found(world.teammate, "报价")["interactions"] == []


def test_a_stale_grantee_key_shows_nothing_the_shares_do_not_allow(world):
    """The keys make the index fast; the shares table decides. Rows still carrying a grantee's
    key after their share went (written around the services) are not shown to them, while the
    customer really shared with them is."""
    from guanxi.audit.models import Source
    from guanxi.customers.models import Contact
    from guanxi.customers.services import customer_share
    from guanxi.engagement.models import Interaction

    other = make_customer(world.owner, name="华润万家超市")
    make_interaction(other, summary="第二次报价")
    customer_share(actor=world.owner, source=Source.UI, customer=other, user=world.teammate)
    stale = f"o{world.owner.pk} t{world.east.pk} u{world.teammate.pk}"
    Customer.objects.filter(pk=world.customer.pk).update(search_scope=stale)
    Interaction.objects.filter(customer=world.customer).update(search_scope=stale)
    Contact.objects.filter(customer=world.customer).update(search_scope=stale)
    found = _found(world.teammate, "报价")
    assert found["interactions"] == ["第二次报价"]
    assert _found(world.teammate, "华")["customers"] == ["华润万家超市"]
    assert _found(world.teammate, "zw")["contacts"] == []


def test_scope_repair_restores_a_shared_customers_keys(world):
    from guanxi.audit.models import Source
    from guanxi.customers.services import customer_share, search_scopes_repair
    from guanxi.engagement.models import Interaction

    customer_share(actor=world.owner, source=Source.UI, customer=world.customer, user=world.teammate)
    scope = Customer.objects.get(pk=world.customer.pk).search_scope
    assert scope.endswith(f" u{world.teammate.pk}")
    Customer.objects.filter(pk=world.customer.pk).update(search_scope=f"o{world.owner.pk}")
    Interaction.objects.filter(customer=world.customer).update(search_scope=f"o{world.owner.pk}")
    assert _found(world.teammate, "报价")["interactions"] == []  # written around the services
    assert search_scopes_repair() >= 2
    assert Customer.objects.get(pk=world.customer.pk).search_scope == scope
    assert _found(world.teammate, "报价")["interactions"]
    assert search_scopes_repair() == 0


def test_lost_fts_triggers_are_put_back_after_migrate(world):
    """SQLite re-creates a table to change a column, which drops its triggers: migrate puts them
    back and rebuilds the index, so rows written meanwhile are found."""
    from django.db import connection

    from guanxi.search.apps import ensure_fts_triggers

    if connection.vendor != "sqlite":
        assert ensure_fts_triggers() == []
        return
    with connection.cursor() as cursor:
        for suffix in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER customers_customer_fts_{suffix}")
    make_customer(world.owner, name="星河湾物业管理有限公司")
    assert _found(world.owner, "星河")["customers"] == []  # the index missed it
    assert ensure_fts_triggers() == ["customers_customer"]
    assert _found(world.owner, "星河")["customers"] == ["星河湾物业管理有限公司"]
    assert ensure_fts_triggers() == []


def test_a_query_never_matches_the_visibility_keys(world):
    # "o<id>" is a key in search_scope, never a word of a document: typing it finds nothing.
    assert _found(world.admin, f"o{world.owner.pk}") == {"customers": [], "contacts": [], "interactions": []}
    assert _found(world.owner, "o") == {"customers": [], "contacts": [], "interactions": []}


def test_scope_repair_restores_keys_written_around_the_services(world):
    from guanxi.customers.models import Contact
    from guanxi.customers.services import search_scopes_repair
    from guanxi.engagement.models import Interaction

    Contact.objects.update(search_scope="o999999")
    Interaction.objects.update(search_scope="")
    assert _found(world.owner, "zw")["contacts"] == []  # drifted: the index no longer says it is alice's
    assert search_scopes_repair() == 2
    assert _found(world.owner, "zw")["contacts"] == ["张伟"] and _found(world.owner, "报价")["interactions"]
    assert search_scopes_repair() == 0


@pytest.mark.parametrize(
    "query",
    ["华为", "华", "huawei", "hw", "jishu", "zw", "zhangw", "0755", "9000", "zhang.wei", "报价", "终端 华"],
)
def test_python_match_agrees_with_the_index(data, query):
    from guanxi.customers.models import Contact
    from guanxi.engagement.models import Interaction
    from guanxi.search.query import filter_matching, matches

    terms = parse_query(query)
    found = 0
    for model in (Customer, Contact, Interaction):
        qs = model.objects.all()
        indexed = set(filter_matching(qs, terms))
        found += len(indexed)
        in_python = {pk for pk, doc in qs.values_list("id", "search_doc") if matches(doc, terms)}
        assert in_python == {row.pk for row in indexed}, (model, query)
    assert found, query  # the data has matches to find


def test_the_index_holds_the_documents_own_words_on_both_engines(data):
    """A word PostgreSQL's text parser would split (``0e1t3mjx4b``: the number ``0e1``, then
    ``t3mjx4b``) is one word in the index as in the document, found by itself and by its
    beginning, not by the parser's pieces — as on SQLite. On PostgreSQL the stored tsvector's
    words are exactly the document's (search 0006)."""
    from django.db import connection

    from guanxi.customers.models import Contact
    from guanxi.engagement.models import Interaction

    owner, _other, huawei, _zhang = data
    make_contact(huawei, name="李娜", emails=["0e1t3mjx4b@example.com"])
    make_interaction(huawei, summary="回访 ref 2e5abc 已报价")
    for query in ("0e1t3mjx4b", "0e1t", "0e1t3mjx4b 李"):
        assert [c.name for c in contact_list(user=owner, q=query).items] == ["李娜"], query
    assert contact_list(user=owner, q="t3mjx4b").items == []
    assert len(interaction_list(user=owner, q="2e5abc").items) == 1
    assert interaction_list(user=owner, q="abc").items == []
    if connection.vendor != "postgresql":
        return
    for model in (Customer, Contact, Interaction):
        table = model._meta.db_table
        sql = (
            "SELECT search_doc, tsvector_to_array(search_tsv), tsvector_to_array(scope_tsv), "  # noqa: S608
            f"search_scope FROM {table}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            for doc, words, keys, scope in cursor.fetchall():
                assert sorted(words) == sorted(set(doc.split())), (table, doc)
                assert sorted(keys) == sorted(scope.split()), (table, scope)


def test_an_overlong_word_in_a_note_is_left_out_of_the_document(data):
    """Free text may hold a word of thousands of letters (a pasted token, say). It is left out of
    the search document (``documents.MAX_TOKEN``), so the note saves and its other words are found;
    PostgreSQL's tsvector takes no word over 2047 bytes."""
    from guanxi.search.documents import MAX_TOKEN

    owner, _other, huawei, _zhang = data
    long_word = "x" * 3000
    make_interaction(huawei, summary=f"对账 {long_word} {'y' * MAX_TOKEN}")
    assert len(interaction_list(user=owner, q="对账").items) == 1
    assert interaction_list(user=owner, q="x" * 20).items == []
    assert len(interaction_list(user=owner, q="y" * 20).items) == 1  # the longest word kept
    assert long_word not in build(texts=[long_word]).split()


def test_two_letter_prefixes_use_their_own_index_words_on_postgresql(data):
    """PostgreSQL answers a 2-character prefix (initials: hw, zw) from ``prefix_tsv``: the first two
    characters of every token of the document — the same rows as ``hw:*`` on the document."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.customers.models import Contact

    owner = data[0]
    with CaptureQueriesContext(connection) as ctx:
        assert names(customer_list(user=owner, filters=CustomerFilters(q="hw"))) == ["华为技术有限公司"]
        assert names(contact_list(user=owner, q="zw")) == ["张伟"]
    uses_prefix_words = any("prefix_tsv" in q["sql"] for q in ctx.captured_queries)
    assert uses_prefix_words == (connection.vendor == "postgresql")
    if connection.vendor != "postgresql":
        return
    for model in (Customer, Contact):
        table = model._meta.db_table
        for pk, doc in model.objects.values_list("id", "search_doc"):
            expected = sorted({token[:2] for token in doc.split() if len(token) >= 2})
            with connection.cursor() as cursor:
                sql = f"SELECT tsvector_to_array(prefix_tsv) FROM {table} WHERE id = %s"  # noqa: S608
                cursor.execute(sql, [pk])
                assert sorted(cursor.fetchone()[0]) == expected, (table, doc)


def test_search_runs_with_its_postgresql_settings_and_the_index_driving(data):
    """PostgreSQL: a search runs with JIT off and a larger work_mem, and the newest notes matching
    a word within a visibility key are found with the sequential scan switched off for that one
    statement (left to the planner, a frequent word took a scan of 10M interactions); the scan
    setting is back afterwards. SQLite sets nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.search.selectors import search_all

    owner = data[0]
    with CaptureQueriesContext(connection) as ctx:
        results = search_all(user=owner, query="报价")
    assert [i["customer_id"] for i in results.interactions] == [data[2].pk]
    sqls = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    if connection.vendor != "postgresql":
        assert not any("set_config" in s for s in sqls)
        return
    assert sqls[0] == "SELECT set_config('work_mem', '32MB', true), set_config('jit', 'off', true)"
    off = [i for i, s in enumerate(sqls) if s == "SELECT set_config('enable_seqscan', 'off', true)"]
    assert off and all(
        "MATERIALIZED" in sqls[i + 1] and sqls[i + 2] == "SET LOCAL enable_seqscan TO DEFAULT" for i in off
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone()[0] == "on"


def test_a_search_asks_the_index_once_per_table_for_all_the_users_keys(world):
    """Own customers, a managed team's and shared ones: one index lookup per searched table,
    with every key of the user in it (customers.selectors.search_branches)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.audit.models import Source
    from guanxi.customers.services import customer_share

    theirs = make_customer(world.outsider, name="华北报价咨询有限公司")
    make_interaction(theirs, summary="北方客户报价")
    customer_share(actor=world.outsider, source=Source.UI, customer=theirs, user=world.manager)
    mine = make_customer(world.manager, name="华东报价服务中心")
    make_interaction(mine, summary="经理自己的报价")
    with CaptureQueriesContext(connection) as ctx:
        found = _found(world.manager, "报价")
    assert found["customers"] == ["华北报价咨询有限公司", "华东报价服务中心"]
    assert len(found["interactions"]) == 3  # own, the team's (alice's) and the shared one
    keys = {f"o{world.manager.pk}", f"t{world.east.pk}", f"u{world.manager.pk}", f"s{world.east.pk}"}
    for table in ("customers_customer", "customers_contact", "engagement_interaction"):
        lookups = [
            q["sql"]
            for q in ctx.captured_queries
            if (f"{table}_fts" in q["sql"] or f"FROM {table} WHERE search_tsv" in q["sql"])
        ]
        assert len(lookups) == 1, (table, lookups)
        assert all(key in lookups[0] for key in keys), (table, lookups[0])


def test_a_first_page_by_name_is_whole_even_when_the_window_of_first_matches_is_dropped(world):
    """PostgreSQL reads the first matches by name (a window of 2 × page + 1) before the visibility
    rule; when the rule drops them all (stale keys, written around the services), the page is read
    again without the window and still holds the customer really shared."""
    from guanxi.audit.models import Source
    from guanxi.customers.models import Contact
    from guanxi.customers.services import customer_share

    stale = f"o{world.owner.pk} t{world.east.pk} u{world.teammate.pk}"
    for name in ("阿报价一", "阿报价二", "阿报价三", "阿报价四"):  # "a…": first by name
        hidden = make_customer(world.owner, name=name)
        make_contact(hidden, name="阿" + name[-1])
        Customer.objects.filter(pk=hidden.pk).update(search_scope=stale)
        Contact.objects.filter(customer=hidden).update(search_scope=stale)
    shared = make_customer(world.owner, name="珠海报价中心")  # "zhuhai…": last
    make_contact(shared, name="赵报")
    customer_share(actor=world.owner, source=Source.UI, customer=shared, user=world.teammate)
    page = customer_list(user=world.teammate, filters=CustomerFilters(q="报价", sort="name"), size=1)
    assert [c.name for c in page.items] == ["珠海报价中心"] and page.next_cursor is None
    contacts = contact_list(user=world.teammate, q="报", size=1)
    assert [c.name for c in contacts.items] == ["赵报"]
    # The owner sees all five, in name order, page after page.
    names, cursor = [], None
    while True:
        page = customer_list(
            user=world.owner, filters=CustomerFilters(q="报价", sort="name"), size=2, cursor=cursor
        )
        names += [c.name for c in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    keys = dict(Customer.objects.values_list("name", "sort_key"))
    assert names == sorted(names, key=keys.__getitem__)
    assert set(names) == {"阿报价一", "阿报价二", "阿报价三", "阿报价四", "珠海报价中心"}


def test_sqlite_prefix_indexes_are_2_and_3_for_customers_and_contacts(data):
    """SQLite (search 0005): customers and contacts keep FTS5 prefix indexes of 2 and 3 characters
    only (a 4-letter query reads the words beginning with it, as a 5-letter one always did);
    interactions keep 2, 3 and 4. The 4- and 5-letter prefixes still find the same rows."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("FTS5 tables exist on SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE '%\\_fts' ESCAPE '\\'")
        ddl = dict(cursor.fetchall())
    assert "prefix='2 3'" in ddl["customers_customer_fts"]
    assert "prefix='2 3'" in ddl["customers_contact_fts"]
    assert "prefix='2 3 4'" in ddl["engagement_interaction_fts"]
    owner = data[0]
    for query in ("huaw", "huawe", "jish", "tong"):
        expected = ["北京同仁堂股份有限公司"] if query == "tong" else ["华为技术有限公司"]
        assert names(customer_list(user=owner, filters=CustomerFilters(q=query))) == expected, query
    assert names(contact_list(user=owner, q="zhan")) == ["张伟"]
