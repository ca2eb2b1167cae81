# Relations issue: personality as a type, preferred channel, profile review date.

from django.conf import settings
from django.db import migrations, models

# Personality was free text; the labels salespeople typed map onto the new codes. Anything else is
# kept, word for word, at the end of the contact's notes so that nothing anyone wrote is lost.
LABELS = {
    "冷静理智型": "calm_rational",
    "冷静型": "calm_rational",
    "理智型": "calm_rational",
    "热情外向型": "warm_outgoing",
    "外向型": "warm_outgoing",
    "谨慎保守型": "cautious",
    "谨慎型": "cautious",
    "果断决策型": "decisive",
    "果断型": "decisive",
    "犹豫不决型": "hesitant",
    "犹豫型": "hesitant",
    "关系导向型": "relationship",
    "专业技术型": "technical",
    "技术型": "technical",
    "爱面子型": "face_conscious",
    "精打细算型": "thrifty",
}
CODES = set(LABELS.values())


def personality_to_codes(apps, schema_editor):
    Contact = apps.get_model("customers", "Contact")
    for contact in Contact.objects.exclude(personality="").only("pk", "personality", "notes").iterator():
        text = contact.personality.strip()
        if text in CODES:
            continue
        code = LABELS.get(text)
        if code is None:
            contact.notes = (contact.notes + "\n" if contact.notes else "") + f"性格：{text}"
            code = ""
        contact.personality = code
        contact.save(update_fields=["personality", "notes"])


def personality_to_labels(apps, schema_editor):
    Contact = apps.get_model("customers", "Contact")
    labels = {}
    for label, code in LABELS.items():
        labels.setdefault(code, label)
    for code, label in labels.items():
        Contact.objects.filter(personality=code).update(personality=label)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('customers', '0002_search_scope'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='preferred_channel',
            field=models.CharField(blank=True, choices=[('phone', '电话'), ('wechat', '微信/即时通讯'), ('email', '邮件'), ('visit', '拜访'), ('sms', '短信'), ('video', '视频')], max_length=10, verbose_name='偏好渠道'),
        ),
        migrations.AddField(
            model_name='customer',
            name='profile_reviewed_on',
            field=models.DateField(blank=True, null=True, verbose_name='档案复核日期'),
        ),
        migrations.AlterField(
            model_name='contact',
            name='personality',
            field=models.CharField(blank=True, choices=[('calm_rational', '冷静理智型'), ('warm_outgoing', '热情外向型'), ('cautious', '谨慎保守型'), ('decisive', '果断决策型'), ('hesitant', '犹豫不决型'), ('relationship', '关系导向型'), ('technical', '专业技术型'), ('face_conscious', '爱面子型'), ('thrifty', '精打细算型')], max_length=40, verbose_name='性格类型'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['owner', 'profile_reviewed_on'], name='cust_owner_reviewed'),
        ),
        migrations.RunPython(personality_to_codes, personality_to_labels, elidable=True),
    ]
