"""The monthly value re-evaluation rewrites every customer's class, tier, lifecycle, RFM segment and
score (guanxi.value.engine). On PostgreSQL an UPDATE that changes no indexed column and finds room
on its page is a HOT update: no index is touched. Otherwise every index gets a new entry — the
search GIN index alone re-inserts each customer's ~1.3 KB of lexemes. Measured at 100k customers:
the UPDATE of every customer's class took 22.5 s as a normal update, 1.1 s as HOT updates.

So: no index on the value columns (filters on them walk the sort or owner indexes instead), room on
each page (fillfactor 50), and the search document and its tsvectors stored out of line
(toast_tuple_target 128) so a heap row is ~1 KB and four fit on a page with room for their next
versions. VACUUM FULL rewrites existing tables with the new fillfactor (PostgreSQL only; it cannot
run in a transaction, hence ``atomic = False``).
"""

from django.db import migrations


def storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE customers_customer SET (fillfactor = 50, toast_tuple_target = 128)")
    schema_editor.execute("VACUUM FULL customers_customer")


def storage_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE customers_customer RESET (fillfactor, toast_tuple_target)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0005_value_fields"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="cust_value_class"),
        migrations.RemoveIndex(model_name="customer", name="cust_lifecycle"),
        migrations.RunPython(storage, storage_back),
    ]
