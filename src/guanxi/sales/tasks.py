from __future__ import annotations

from django.db.models import Count, Max, Q, Sum
from django_tasks import task

from guanxi.customers.models import Customer
from guanxi.sales.models import OrderStatus
from guanxi.sales.services import refresh_customer_order_figures


@task()
def verify_customer_figures(batch: int = 2000) -> int:
    """Safety net for the maintained order columns: repair customers whose figures drifted.

    The sales services keep them current on every write; this only catches writes made outside
    them (manual SQL, restores). Returns the number of customers repaired.
    """
    live = ~Q(orders__status=OrderStatus.CANCELLED)
    repaired = 0
    qs = Customer.objects.annotate(
        n=Count("orders", filter=live),
        total=Sum("orders__amount", filter=live),
        last=Max("orders__ordered_on", filter=live),
    ).values_list("id", "order_count", "n", "last_order_at", "last")
    for cid, count, n, last_at, last in qs.iterator(chunk_size=batch):
        if count != n or last_at != last:
            refresh_customer_order_figures(cid)
            repaired += 1
    return repaired
