"""The seed's feedback questions (DOMAIN §7) and a complaint follow-up questionnaire."""

from django.db import migrations

FEEDBACK = {
    "name": "客户反馈",
    "intro": "感谢您一直以来的支持。请花几分钟告诉我们您的想法，这对我们很重要。",
    "for_complaints": False,
    "questions": [
        {"key": "why_chose", "kind": "text", "zh": "您为什么选择了我们？", "en": "Why did you choose us?"},
        {
            "key": "why_us",
            "kind": "text",
            "zh": "是什么让您向我们而不是其他供应商购买？",
            "en": "What made you buy from us rather than from another supplier?",
        },
        {"key": "improve", "kind": "text", "zh": "我们应该改进什么？", "en": "What should we improve?"},
        {
            "key": "recommend",
            "kind": "nps",
            "zh": "您有多大可能向朋友或同事推荐我们？（0–10）",
            "en": "How likely are you to recommend us to a friend or colleague? (0–10)",
            "required": True,
        },
        {"key": "comment", "kind": "text", "zh": "还有什么想告诉我们的？", "en": "Anything else you would like to tell us?"},
    ],
}
COMPLAINT = {
    "name": "投诉处理回访",
    "intro": "感谢您把问题告诉我们。问题已经处理，请告诉我们您是否满意。",
    "for_complaints": True,
    "questions": [
        {
            "key": "satisfaction",
            "kind": "rating",
            "zh": "您对这次问题的处理满意吗？（1 非常不满意 – 5 非常满意）",
            "en": "How satisfied are you with how we handled the problem? (1 very dissatisfied – 5 very satisfied)",
            "required": True,
        },
        {
            "key": "recommend",
            "kind": "nps",
            "zh": "您有多大可能向朋友或同事推荐我们？（0–10）",
            "en": "How likely are you to recommend us to a friend or colleague? (0–10)",
        },
        {"key": "comment", "kind": "text", "zh": "我们还可以做得更好的地方", "en": "What could we have done better?"},
    ],
}


def forward(apps, schema_editor):
    SurveyTemplate = apps.get_model("service", "SurveyTemplate")
    for data in (FEEDBACK, COMPLAINT):
        SurveyTemplate.objects.get_or_create(name=data["name"], defaults=data)


def backward(apps, schema_editor):
    apps.get_model("service", "SurveyTemplate").objects.filter(name__in=[FEEDBACK["name"], COMPLAINT["name"]]).delete()


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
