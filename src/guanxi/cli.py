"""The ``guanxi`` command: serve, worker, demo, createuser, token, tick, relations, referrals,
playbooks, today, plan, remind, classify, complaints, promises, objections, surveys, pipeline, import,
export, dedupe, merge, backup, restore, privacy, bench,
migrate, manage.

Every subcommand except ``serve`` is a Django management command, so ``python manage.py <name>`` works
too; malformed arguments exit non-zero with a message in Chinese and English.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "serve": "Run the web server (gunicorn) / 启动网站服务",
    "worker": "Run the background job worker / 启动后台任务进程",
    "migrate": "Create or upgrade the database / 创建或升级数据库",
    "demo": "Load the demo workspace / 加载演示数据",
    "createuser": "Create a user / 创建用户",
    "token": "Print a new API token for a user / 为用户生成 API 令牌",
    "tick": "Run due scheduled jobs (idempotent; call from cron) / 执行到期的定时任务",
    "relations": "Relationship gaps, stale profiles, maps, roles, links / 关系缺口、档案复核、关系图谱",
    "referrals": "Referral value, the customers behind one customer, record one / 转介绍",
    "playbooks": "Relationship playbooks: list, export, import, reset / 关系维护手册",
    "today": "A user's day: tasks, cadence, reminders (--user U [--json]) / 今日工作",
    "plan": "Plan a user's visits (--user U --date D) / 安排拜访路线",
    "remind": "Create due reminders, optionally send greetings (idempotent) / 生成提醒",
    "classify": "Re-evaluate customer value now ([--force] [--date D]) / 客户价值评估",
    "complaints": "Complaints: list, log, acknowledge, escalate, resolve, stats / 投诉",
    "promises": "The promise ledger: list, add, close, kept-on-time rates / 承诺",
    "objections": "Objections: list, add, analysis, answers knowledge base / 异议",
    "surveys": "Feedback surveys: invite (link or e-mail), NPS results / 客户反馈",
    "pipeline": "Opportunities, board, forecast, analysis (list/create/move/win/lose…) / 商机与销售预测",
    "import": "Import CSV/xlsx/xls/vCard (FILE --user U [--kind K] [--dry-run] [--mapping M]) / 导入",
    "export": "Export customers, contacts, interactions, orders (xlsx/csv/vcf/json) / 导出",
    "dedupe": "Find duplicate customers and contacts, scored and explained / 查重",
    "merge": "Merge two customers or contacts, or undo a merge / 合并客户或联系人",
    "backup": "Consistent online backup of the database (SQLite or PostgreSQL) / 备份",
    "restore": "Restore a backup, checked (row counts and integrity) / 恢复",
    "privacy": "Personal-data requests: export or erase one person (PIPL/GDPR) / 个人信息",
    "bench": "Run the benchmarks / 运行性能基准",
    "manage": "Any Django management command / 任意 Django 管理命令",
}


def _usage() -> str:
    lines = ["usage: guanxi <command> [options]", "", "commands:"]
    lines += [f"  {name:<11} {text}" for name, text in COMMANDS.items()]
    return "\n".join(lines)


def _serve(args: list[str]) -> int:
    import argparse

    from django.core.management import call_command

    parser = argparse.ArgumentParser(prog="guanxi serve", description=COMMANDS["serve"])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000") or 8000))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUANXI_WEB_WORKERS", "3") or 3))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GUANXI_WEB_THREADS", "4") or 4))
    opts = parser.parse_args(args)
    if not 0 < opts.port < 65536:
        parser.error("端口必须在 1–65535 之间 / port must be 1–65535")
    if not 0 < opts.workers <= 64 or not 0 < opts.threads <= 64:
        parser.error("进程/线程数必须在 1–64 之间 / workers and threads must be 1–64")
    call_command("collectstatic", interactive=False, verbosity=0)
    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "guanxi.wsgi:application",
        "--bind",
        f"{opts.host}:{opts.port}",
        "--workers",
        str(opts.workers),
        "--threads",
        str(opts.threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]
    run()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"未知命令 / unknown command: {command}\n\n{_usage()}", file=sys.stderr)
        return 2

    import django

    from guanxi.env import ConfigError

    try:
        django.setup()
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    if command == "serve":
        return _serve(rest)
    if command == "worker":
        execute_from_command_line(["guanxi", "db_worker", *rest])
        return 0
    if command == "migrate":
        execute_from_command_line(["guanxi", "migrate", "--no-input", *rest])
        execute_from_command_line(["guanxi", "createcachetable", "-v", "0"])
        return 0
    if command == "manage":
        execute_from_command_line(["guanxi", *rest])
        return 0
    execute_from_command_line(["guanxi", command, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
