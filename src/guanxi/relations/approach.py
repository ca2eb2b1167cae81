"""How to approach a person (如何与此人打交道): advice by personality type (客户类型), decision role
and stance, combined with the playbook of the customer's relationship type."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact, PersonalityType
from guanxi.relations.models import DecisionRoleKind, Playbook, Stance

PERSONALITY_ADVICE: dict[str, list[Promise]] = {
    PersonalityType.CALM_RATIONAL: [
        _("沉默、多疑、凡事都要分析：给事实和数据，不要施压"),
        _("准备好详细资料、参数和案例，让对方自己比较"),
        _("耐心等待对方思考，不要催促成交"),
    ],
    PersonalityType.WARM_OUTGOING: [
        _("乐于交谈、重视气氛：先聊对方感兴趣的话题"),
        _("热情回应，但要把谈话拉回到具体的下一步"),
        _("口头答应要及时用书面方式确认"),
    ],
    PersonalityType.CAUTIOUS: [
        _("怕担风险：强调质量保证、售后和成功案例"),
        _("提供试用、样品或分阶段合作，降低对方的顾虑"),
        _("不要夸大其词，一次失信就很难挽回"),
    ],
    PersonalityType.DECISIVE: [
        _("时间宝贵、说一不二：开门见山，先讲结论"),
        _("准备两三个方案让对方选择，不要拖泥带水"),
        _("尊重对方的决定权，不要和他争辩"),
    ],
    PersonalityType.HESITANT: [
        _("难以拿主意：帮对方理清利弊，替他缩小选择范围"),
        _("给出明确的建议和期限，适度推动"),
        _("找到对方信任的人（同事、上级）一起推进"),
    ],
    PersonalityType.RELATIONSHIP: [
        _("看重人情：多走动，逢年过节不忘问候"),
        _("先交朋友后谈生意，记住对方和家人的小事"),
        _("通过共同认识的人介绍和引荐效果更好"),
    ],
    PersonalityType.TECHNICAL: [
        _("关注技术细节：带上工程师或技术资料一起沟通"),
        _("回答要准确，不懂的问题记下来，按时答复"),
        _("用测试结果和技术对比说话"),
    ],
    PersonalityType.FACE_CONSCIOUS: [
        _("重视面子：当众多肯定，提意见私下讲"),
        _("重要的事当面拜访，安排得体的场合"),
        _("让对方在上级和同事面前有功劳"),
    ],
    PersonalityType.THRIFTY: [
        _("精打细算：讲清楚每一分钱花在哪里"),
        _("用总成本、投资回报来比较，而不只是单价"),
        _("把优惠留到最后，作为成交的条件"),
    ],
}

ROLE_ADVICE: dict[str, Promise] = {
    DecisionRoleKind.DECISION_MAKER: _("拍板者：关心结果和风险，汇报要简短，讲投入产出"),
    DecisionRoleKind.INFLUENCER: _("影响者：让他了解我们的优势，请他在决策时说句话"),
    DecisionRoleKind.USER: _("使用者：关心好不好用，请他试用并听取他的意见"),
    DecisionRoleKind.TECHNICAL_EVALUATOR: _("技术评估者：给足技术资料和测试机会，答疑要准确"),
    DecisionRoleKind.PURCHASER: _("采购者：关心价格、交期和付款条件，流程要配合好"),
    DecisionRoleKind.GATEKEEPER: _("把关者：尊重他的职责，通过他约见其他人，不要绕开他"),
    DecisionRoleKind.SPONSOR: _("内部支持者：及时同步进展，给他在内部推动所需的材料"),
}

STANCE_ADVICE: dict[str, Promise] = {
    Stance.SUPPORTER: _("支持我们：保持联系，请他帮忙引荐其他关键人"),
    Stance.NEUTRAL: _("态度中立：找出他真正关心的问题，争取转为支持"),
    Stance.OPPONENT: _("反对我们：先弄清反对的真实原因（可能是借口），不要争辩，必要时请经理出面"),
}


@dataclass
class Approach:
    contact: Contact
    personality_label: str
    personality_advice: list[str]
    role_advice: list[str]
    stance_advice: str
    communication_style: str
    preferred_channel_label: str
    playbook_summary: str
    playbook_actions: list[str] = field(default_factory=list)
    playbook_basis: str = ""


def contact_approach(
    contact: Contact, *, roles: list[str], stance: str, playbook: Playbook | None
) -> Approach:
    language = get_language()
    return Approach(
        contact=contact,
        personality_label=contact.get_personality_display() if contact.personality else "",
        personality_advice=[str(a) for a in PERSONALITY_ADVICE.get(contact.personality, [])],
        role_advice=[str(ROLE_ADVICE[r]) for r in roles if r in ROLE_ADVICE],
        stance_advice=str(STANCE_ADVICE.get(stance, "")),
        communication_style=contact.communication_style,
        preferred_channel_label=contact.get_preferred_channel_display() if contact.preferred_channel else "",
        playbook_summary=playbook.text("summary", language) if playbook else "",
        playbook_actions=playbook.lines("actions", language) if playbook else [],
        playbook_basis=playbook.get_basis_display() if playbook else "",
    )
