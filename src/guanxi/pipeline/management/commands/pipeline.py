"""guanxi pipeline list|show|create|move|win|lose|board|forecast|analysis|snapshot — the sales pipeline
from the command line, through the same selectors (visibility) and services (audit, version checks)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_get_for_user
from guanxi.pipeline import forecast as fc
from guanxi.pipeline import selectors, services
from guanxi.pipeline.api import opportunity_out
from guanxi.pipeline.models import LostReason, OpportunitySource
from guanxi.relations.management.base import RelationsCommand
from guanxi.sales.models import Order
from guanxi.service.selectors import objections as objection_sel


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text} / dates are YYYY-MM-DD: {text}") from None


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"金额不是数字：{text} / amount is not a number: {text}") from None


class Command(RelationsCommand):
    help = "Sales pipeline: opportunities, board, forecast / 商机、看板、销售预测"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("list", help="opportunities you may see / 商机列表")
        p.add_argument("--user", required=True)
        p.add_argument("--status", choices=["open", "won", "lost"], default="open")
        p.add_argument("--pipeline", type=int)
        p.add_argument("--owner", type=int)
        p.add_argument("--limit", type=int, default=50)
        p = sub.add_parser("show", help="one opportunity as JSON / 查看商机")
        p.add_argument("--user", required=True)
        p.add_argument("--id", type=int, required=True)
        p = sub.add_parser("create", help="create an opportunity / 新建商机")
        p.add_argument("--user", required=True)
        p.add_argument("--customer", type=int, required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--amount", default="0")
        p.add_argument("--close", required=True, help="expected close date YYYY-MM-DD")
        p.add_argument("--pipeline", type=int)
        p.add_argument("--stage", type=int)
        p.add_argument("--source", default="", help=", ".join(OpportunitySource.values))
        p.add_argument("--next-step", default="")
        p.add_argument("--next-step-on", default=None)
        p = sub.add_parser("move", help="move an open opportunity to another stage / 推进阶段")
        p.add_argument("--user", required=True)
        p.add_argument("--id", type=int, required=True)
        p.add_argument("--stage", type=int, required=True)
        p.add_argument("--version", type=int, required=True)
        p = sub.add_parser("win", help="won: link an order or create one from the lines / 赢单")
        p.add_argument("--user", required=True)
        p.add_argument("--id", type=int, required=True)
        p.add_argument("--version", type=int, required=True)
        p.add_argument("--order", type=int)
        p.add_argument("--create-order", action="store_true")
        p = sub.add_parser("lose", help="lost, with the real reason / 输单")
        p.add_argument("--user", required=True)
        p.add_argument("--id", type=int, required=True)
        p.add_argument("--version", type=int, required=True)
        p.add_argument("--reason", required=True, help=", ".join(LostReason.values))
        p.add_argument("--lost-to", default="")
        p.add_argument("--note", default="")
        p.add_argument("--objection", type=int, help="the objection raised in this deal that lost it")
        p = sub.add_parser("board", help="column totals of the board / 看板汇总")
        p.add_argument("--user", required=True)
        p.add_argument("--pipeline", type=int)
        p = sub.add_parser("forecast", help="forecast per period and salesperson / 销售预测")
        p.add_argument("--user", required=True)
        p.add_argument("--kind", choices=["month", "quarter"], default="quarter")
        p.add_argument("--group", choices=["owner", "team"], default="owner")
        p.add_argument("--periods", type=int, default=4)
        p = sub.add_parser("analysis", help="cycle, conversion, win rates, stuck deals as JSON / 漏斗分析")
        p.add_argument("--user", required=True)
        p.add_argument("--pipeline", type=int)
        sub.add_parser("snapshot", help="record today's forecasts (the daily job) / 记录预测快照")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "snapshot":
            self.stdout.write(f"snapshots: {fc.forecast_snapshot_take()}")
            return
        user = self.user(opts["user"])
        if action == "list":
            if not 1 <= opts["limit"] <= 1000:
                raise CommandError("--limit 应在 1 到 1000 之间 / --limit must be 1–1000")
            f = selectors.DealFilters(
                pipeline_id=opts["pipeline"], owner_id=opts["owner"], status=opts["status"]
            )
            page = self.run(lambda: selectors.opportunity_list(user=user, filters=f, size=opts["limit"]))
            for o in page.items:
                self.stdout.write(
                    f"{o.pk}\tv{o.version}\t{o.stage.name}\t{o.amount}\t{o.expected_close_on}\t{o.customer.name}\t{o.name}"
                )
        elif action == "show":
            opp = self.run(lambda: selectors.opportunity_get_for_user(user=user, opportunity_id=opts["id"]))
            self.json(opportunity_out(opp))
        elif action == "create":
            customer = self.run(lambda: customer_get_for_user(user=user, customer_id=opts["customer"]))
            pipeline = (
                self.run(lambda: selectors.pipeline_get(opts["pipeline"])) if opts["pipeline"] else None
            )
            stage = (
                self.run(lambda: selectors.stage_get(pipeline=pipeline, stage_id=opts["stage"]))
                if opts["stage"] is not None
                else None
            )
            opp = self.run(
                lambda: services.opportunity_create(
                    actor=user,
                    source=Source.CLI,
                    customer=customer,
                    name=opts["name"],
                    amount=_amount(opts["amount"]),
                    expected_close_on=_date(opts["close"]),
                    pipeline=pipeline or (stage.pipeline if stage else None),
                    stage=stage,
                    deal_source=opts["source"],
                    next_step=opts["next_step"],
                    next_step_on=_date(opts["next_step_on"]) if opts["next_step_on"] else None,
                )
            )
            self.stdout.write(f"opportunity {opp.pk} v{opp.version}: {opp.name} ({opp.stage.name})")
        elif action in ("move", "win", "lose"):
            opp = self.run(lambda: selectors.opportunity_get_for_user(user=user, opportunity_id=opts["id"]))
            if action == "move":
                stage = self.run(lambda: selectors.stage_get(pipeline=opp.pipeline, stage_id=opts["stage"]))
                opp = self.run(
                    lambda: services.opportunity_move(
                        actor=user, source=Source.CLI, opportunity=opp, stage=stage, version=opts["version"]
                    )
                )
            elif action == "win":
                order = None
                if opts["order"] is not None:
                    order = Order.objects.filter(pk=opts["order"], customer_id=opp.customer_id).first()
                    if order is None:
                        raise CommandError("订单不存在或不属于该客户 / no such order of this customer")
                opp = self.run(
                    lambda: services.opportunity_win(
                        actor=user,
                        source=Source.CLI,
                        opportunity=opp,
                        version=opts["version"],
                        order=order,
                        create_order=opts["create_order"],
                    )
                )
            else:
                objection = (
                    self.run(
                        lambda: objection_sel.objection_get_for_user(
                            user=user, objection_id=opts["objection"]
                        )
                    )
                    if opts["objection"]
                    else None
                )
                opp = self.run(
                    lambda: services.opportunity_lose(
                        objection=objection,
                        actor=user,
                        source=Source.CLI,
                        opportunity=opp,
                        version=opts["version"],
                        reason=opts["reason"],
                        lost_to=opts["lost_to"],
                        note=opts["note"],
                    )
                )
            self.stdout.write(f"opportunity {opp.pk} v{opp.version}: {opp.stage.name} ({opp.status})")
        elif action == "board":
            b = self.run(
                lambda: selectors.board(
                    user=user, filters=selectors.DealFilters(pipeline_id=opts["pipeline"])
                )
            )
            self.stdout.write(
                f"{b.pipeline.name}: {b.open_count} open, ¥{b.open_amount} (weighted ¥{b.open_weighted})"
            )
            for c in b.columns:
                self.stdout.write(f"  {c.stage.name}\t{c.count}\t¥{c.amount}\t¥{c.weighted}")
        elif action == "forecast":
            if not 1 <= opts["periods"] <= fc.MAX_PERIODS:
                raise CommandError(
                    f"--periods 应在 1 到 {fc.MAX_PERIODS} 之间 / --periods must be 1–{fc.MAX_PERIODS}"
                )
            result = self.run(
                lambda: fc.forecast(
                    user=user, kind=opts["kind"], periods=opts["periods"], group=opts["group"]
                )
            )
            self.stdout.write("\t".join(["", *(label for _, label, _ in result.labels)]))
            for row in [*result.rows, fc.ForecastRow(key=None, label="合计 / total", periods=result.totals)]:
                cells = [
                    f"commit {x.commit} / best {x.best_case} / pipe {x.pipeline}"
                    f" / wtd {x.weighted} / won {x.won}"
                    + (f" / acc {x.accuracy}" if x.accuracy is not None else "")
                    for x in row.periods.values()
                ]
                self.stdout.write("\t".join([row.label, *cells]))
        elif action == "analysis":
            a = self.run(
                lambda: fc.analysis(user=user, filters=selectors.DealFilters(pipeline_id=opts["pipeline"]))
            )
            self.json(
                {
                    "pipeline": a.pipeline.name,
                    "won": a.won,
                    "lost": a.lost,
                    "win_rate": a.win_rate,
                    "cycle_won_days": a.cycle_won_days,
                    "stages": [
                        {
                            "stage": c.stage.name,
                            "reached": c.reached,
                            "conversion": c.conversion,
                            "avg_days": c.avg_days,
                        }
                        for c in a.stages
                    ],
                    "by_source": [vars(r) for r in a.by_source],
                    "by_decision_maker": [vars(r) for r in a.by_decision_maker],
                    "by_objection": [vars(r) for r in a.by_objection],
                    "stuck": [{"id": o.pk, "name": o.name, "since": o.stage_entered_at} for o in a.stuck],
                    "generated_at": timezone.now(),
                }
            )
