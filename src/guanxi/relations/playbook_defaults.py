"""The playbooks Guanxi ships with (seed 000, "四类客户关系"): one per relationship type.

Read by the data migration that seeds them and by ``guanxi playbooks reset``. Plain data without
Django imports, so the migration can read it; an installation keeps its edited playbooks when these
defaults change later (the migration only creates missing ones).
"""

from __future__ import annotations

from typing import Any

DEFAULT_PLAYBOOKS: list[dict[str, Any]] = [
    {
        "relationship_type": "upstream",
        "basis": "loyalty",
        "cadence_days": 30,
        "summary_zh": (
            "上游客户（制造商、供应商）给我们产品、信息和赚钱的机会，是销售人员的衣食父母。"
            "长期合作靠的不是最初的利益，而是“以义相交”：对方经营不善、陷入低谷时仍然站在他们一边。"
            "拉一把“下坡”的伙伴，对方“上坡”后一定会想到你。"
        ),
        "summary_en": (
            "Upstream customers (manufacturers, suppliers) give us products, market information and the "
            "chance to earn. Years of cooperation rest not on the first deal's mutual benefit but on "
            "loyalty: standing by them when their business is in trouble. Help a partner on the way down "
            "and they will remember you on the way up."
        ),
        "actions_zh": (
            "对方经营困难、销量下滑时主动联系，提供精神和实际的支持（如提前回款、帮忙消化库存）\n"
            "兑现承诺，守约付款，不因短期利益转投竞争对手\n"
            "定期向对方反馈市场信息、终端需求和竞品动态\n"
            "逢年过节、对方企业周年纪念时问候高层\n"
            "每季度与对方负责人面谈一次，共同规划来年合作"
        ),
        "actions_en": (
            "Get in touch when their business struggles or sales fall; offer moral and practical support "
            "(pay early, help clear stock)\n"
            "Keep every promise and pay on time; do not switch to a competitor for a short-term gain\n"
            "Report market information, end-customer demand and competitor moves back to them regularly\n"
            "Greet their senior people at festivals and on company anniversaries\n"
            "Meet their responsible manager once a quarter to plan next year's cooperation together"
        ),
        "checks_zh": (
            "最近一个周期内是否与对方高层有过联系\n"
            "是否有逾期付款或未兑现的承诺\n"
            "对方是否正处于困难期（停产、裁员、销量下滑），我们是否表示过支持"
        ),
        "checks_en": (
            "Have we been in touch with their senior people within the cadence?\n"
            "Are any payments overdue or any promises not kept?\n"
            "Are they going through a hard time (stopped production, lay-offs, falling sales), and did we "
            "show our support?"
        ),
    },
    {
        "relationship_type": "partner",
        "basis": "feeling",
        "cadence_days": 45,
        "summary_zh": (
            "协作客户（广告、设计、物流、装修、咨询等服务商）按我们的要求提供服务。合作时断时续，"
            "协议管不了所有意外，真正让对方尽心尽责的是双方的感情。感情要靠时间经营，不能现用现交："
            "项目之间也要保持联系。"
        ),
        "summary_en": (
            "Partners (advertising, design, logistics, fit-out, consulting) work to our requirements. Work "
            "comes and goes, and no contract covers every surprise: what makes them take responsibility "
            "is the feeling between us. That takes time and cannot be switched on when needed — keep in "
            "touch between projects too."
        ),
        "actions_zh": (
            "项目之间也定期问候，不要只在有需求时才联系\n"
            "项目结束后当面感谢，并反馈效果\n"
            "记住对方负责人的生日、爱好，逢年过节送上心意\n"
            "出现分歧时先沟通感受、寻求共识，不要一上来就拿协议条款说事\n"
            "有新项目时优先考虑合作愉快的老伙伴"
        ),
        "actions_en": (
            "Keep in touch between projects, not only when we need something\n"
            "Thank them in person when a project ends and tell them how it went\n"
            "Remember their manager's birthday and hobbies; send a small token at festivals\n"
            "When we disagree, talk about how each side sees it and look for common ground before quoting "
            "the contract\n"
            "Offer new projects first to partners we worked well with"
        ),
        "checks_zh": (
            "上一个项目结束后是否仍有联系（项目间隔期的问候）\n"
            "最近一次合作是否有遗留问题或不愉快\n"
            "对方关键人员是否变动"
        ),
        "checks_en": (
            "Have we stayed in touch since the last project ended?\n"
            "Did the last job leave open issues or bad feeling?\n"
            "Have their key people changed?"
        ),
    },
    {
        "relationship_type": "channel",
        "basis": "profit",
        "cadence_days": 14,
        "summary_zh": (
            "渠道客户（经销商、代理商）与我们合作，根本原因是我们的产品和服务能让他们赚钱，"
            "否则就会“另结新欢”。设计价格政策时要保证他们的盈利空间，经营中要不时关注他们的实际盈利状况，"
            "让他们感到我们重视他们的经营效益。"
        ),
        "summary_en": (
            "Channel customers (distributors, dealers) work with us because our products let them make "
            "money — otherwise they find someone else. Design the price policy so that they keep their "
            "margin, and watch how profitable they really are, so they see we care about their business."
        ),
        "actions_zh": (
            "制定价格政策前测算渠道的利润空间，避免价格倒挂和窜货\n"
            "每月查看对方的进货量、库存和动销情况\n"
            "对销量下滑的渠道及时上门，帮助分析原因（价格、竞品、促销、人员）\n"
            "提供促销支持、培训和样品，帮助他们卖得更好\n"
            "按时兑现返利和奖励政策"
        ),
        "actions_en": (
            "Work out the channel's margin before setting a price policy; avoid price inversion and "
            "cross-territory selling\n"
            "Look at their purchases, stock and sell-through every month\n"
            "Visit a channel whose sales fall and help find out why (price, competitors, promotion, staff)\n"
            "Give promotion support, training and samples so they sell more\n"
            "Pay rebates and incentives on time"
        ),
        "checks_zh": (
            "对方的毛利率是否仍有保障（我们的价格政策是否挤压了他们的利润）\n"
            "近一个周期的进货额和销量是否下滑\n"
            "是否有逾期未付的返利或未兑现的政策\n"
            "是否出现窜货或乱价"
        ),
        "checks_en": (
            "Is their gross margin still safe (does our price policy squeeze their profit)?\n"
            "Did their purchases or sales fall within the last cadence?\n"
            "Are any rebates overdue or any incentives not honoured?\n"
            "Any cross-territory selling or price undercutting?"
        ),
    },
    {
        "relationship_type": "end",
        "basis": "reason",
        "cadence_days": 30,
        "summary_zh": (
            "终端客户是最终的购买者，双方利益直接而明显：他们想花更少的钱得到更好的产品，我们要实现目标利润。"
            "化解这种对立靠“以理服人”——用事实和价值说话，不讲歪理；蒙混过关迟早被识破，失去的客户不止一个。"
        ),
        "summary_en": (
            "End customers are the final buyers, and both sides' interests are direct and plain: they want "
            "more for less, we need our margin. What bridges that is reason — arguing fair value honestly "
            "with facts. A trick may work once, but it is found out in time, and then we lose more than "
            "one customer."
        ),
        "actions_zh": (
            "报价时讲清价值构成，用数据、案例和对比说话\n"
            "如实说明产品的适用范围和局限，不夸大、不过度承诺\n"
            "交付后回访，确认实际效果与承诺一致\n"
            "认真处理抱怨和投诉，解决不了的立即上报经理\n"
            "满意的客户请他们介绍身边的人（转介绍）"
        ),
        "actions_en": (
            "Explain what the price is made of; use figures, cases and comparisons\n"
            "Say honestly what the product is for and what it cannot do; do not over-promise\n"
            "Call back after delivery to check the result matches what was promised\n"
            "Handle complaints seriously; what you cannot solve goes to the manager at once\n"
            "Ask satisfied customers to introduce people they know (referrals)"
        ),
        "checks_zh": (
            "是否有未兑现的承诺或未处理的投诉\n"
            "交付后是否回访过\n"
            "对方是否对价格有疑虑，我们是否给出过充分的理由"
        ),
        "checks_en": (
            "Any promise not kept or complaint not handled?\n"
            "Did we call back after delivery?\n"
            "Does the customer doubt the price, and have we given good reasons for it?"
        ),
    },
]
