"""Orders carry their cost and their uncosted amount (kept by the sales services), so the value engine
reads margins from the orders alone; existing orders are filled from their lines."""

from django.db import migrations, models

# A copy of guanxi.sales.services.ORDER_COSTS_SQL as of this migration (migrations stay frozen).
ORDER_COSTS_SQL = """
UPDATE sales_order SET
    cost = COALESCE((SELECT SUM(l.quantity * p.cost) FROM sales_orderline l
        JOIN sales_product p ON p.id = l.product_id
        WHERE l.order_id = sales_order.id AND p.cost IS NOT NULL), 0),
    uncosted = COALESCE((SELECT SUM(l.amount) FROM sales_orderline l
        JOIN sales_product p ON p.id = l.product_id
        WHERE l.order_id = sales_order.id AND p.cost IS NULL), 0)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_product_cost"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="cost",
            field=models.DecimalField(decimal_places=4, default=0, max_digits=18, verbose_name="成本"),
        ),
        migrations.AddField(
            model_name="order",
            name="uncosted",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name="无成本金额"),
        ),
        migrations.RunSQL(ORDER_COSTS_SQL, migrations.RunSQL.noop),
    ]
