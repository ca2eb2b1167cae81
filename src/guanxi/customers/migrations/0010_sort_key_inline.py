"""PostgreSQL: a customer's sort key stays in its heap row.

0006 stores a customer's long text out of line (``toast_tuple_target = 128``) so that rows are small
and value updates stay HOT. The sort key went out with it, and sorting a search's matches by name
then fetched every key from the TOAST table again on each comparison: at 1M customers a search
matching 1,100 of a salesperson's customers spent 10 ms and 10k buffer reads in the top-10 sort
alone. The key is short ASCII (≤ 255 characters, ~90 on average), so it is stored plainly, never
compressed or moved out. VACUUM FULL rewrites the existing rows so that their keys come back in
(it cannot run in a transaction, hence ``atomic = False``).
"""

from django.db import migrations


def inline(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE customers_customer ALTER COLUMN sort_key SET STORAGE PLAIN")
    schema_editor.execute("VACUUM FULL customers_customer")


def back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE customers_customer ALTER COLUMN sort_key SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0009_share_grantee_search_keys"),
    ]

    operations = [migrations.RunPython(inline, back)]
