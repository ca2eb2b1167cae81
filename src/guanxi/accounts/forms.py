from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.accounts.models import Role, Team, User


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    team = forms.ModelChoiceField(label=_("团队"), queryset=Team.objects.all(), required=False)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, max_length=128)


class UserEditForm(forms.Form):
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    team = forms.ModelChoiceField(label=_("团队"), queryset=Team.objects.all(), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)
    new_password = forms.CharField(
        label=_("重设密码"), widget=forms.PasswordInput, required=False, max_length=128
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    parent = forms.ModelChoiceField(label=_("上级团队"), queryset=Team.objects.all(), required=False)
    manager = forms.ModelChoiceField(
        label=_("经理"), queryset=User.objects.filter(is_active=True), required=False
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100, required=False)
