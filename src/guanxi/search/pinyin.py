"""Pinyin for Chinese names: syllables, initials and a sort key that reads surnames correctly.

pypinyin (and PostgreSQL's ICU collation) read many surnames with their common-word reading
(曾 → ceng, 单 → dan); a person's name is read with the surname table below first.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

# Surnames whose reading differs from the character's most common reading. Two-character
# (compound) surnames come first so they win over their first character.
SURNAME_READINGS: dict[str, list[str]] = {
    "万俟": ["mo", "qi"],
    "尉迟": ["yu", "chi"],
    "单于": ["chan", "yu"],
    "长孙": ["zhang", "sun"],
    "澹台": ["tan", "tai"],
    "令狐": ["ling", "hu"],
    "曾": ["zeng"],
    "单": ["shan"],
    "解": ["xie"],
    "仇": ["qiu"],
    "区": ["ou"],
    "查": ["zha"],
    "朴": ["piao"],
    "盖": ["ge"],
    "秘": ["bi"],
    "乐": ["yue"],
    "缪": ["miao"],
    "翟": ["zhai"],
    "覃": ["qin"],
    "召": ["shao"],
    "繁": ["po"],
    "种": ["chong"],
    "员": ["yun"],
    "折": ["she"],
    "冼": ["xian"],
    "洗": ["xian"],
    "句": ["gou"],
    "能": ["nai"],
    "阚": ["kan"],
    "藏": ["zang"],
    "都": ["du"],
    "褚": ["chu"],
    "乜": ["nie"],
    "纪": ["ji"],
    "任": ["ren"],
    "薄": ["bo"],
    "宿": ["su"],
    "葛": ["ge"],
    "柏": ["bai"],
    "卜": ["bu"],
    "莘": ["shen"],
    "蕃": ["pi"],
    "粘": ["nian"],
    "重": ["chong"],
    "尉": ["yu"],
    "隗": ["wei"],
    "郇": ["huan"],
    "沈": ["shen"],
    "贾": ["jia"],
    "石": ["shi"],
    "缴": ["jiao"],
    "华": ["hua"],
    "燕": ["yan"],
    "应": ["ying"],
    "费": ["fei"],
    "相": ["xiang"],
    "车": ["che"],
    "过": ["guo"],
    "和": ["he"],
    "黑": ["he"],
    "谌": ["chen"],
    "厍": ["she"],
    "逄": ["pang"],
}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def is_cjk(char: str) -> bool:
    return bool(_CJK.fullmatch(char))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def syllables(text: str, *, person: bool = False) -> list[str]:
    """Pinyin syllables of ``text`` (non-Chinese runs are kept as lower-case words).

    With ``person=True`` the leading surname is read from the surname table.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    head: list[str] = []
    if person:
        for surname in sorted(SURNAME_READINGS, key=len, reverse=True):
            if text.startswith(surname) and len(text) > len(surname):
                head = list(SURNAME_READINGS[surname])
                text = text[len(surname) :]
                break
    result = head
    for part in lazy_pinyin(text, style=Style.NORMAL, errors="default"):
        for word in _NON_ALNUM.split(part.lower()):
            if word:
                result.append(word)
    return result


def sort_key(text: str, *, person: bool = False) -> str:
    """A byte-ordered key (only ``a-z``, ``0-9`` and one separator) sorting names by pinyin.

    The same key sorts identically on SQLite (BINARY) and PostgreSQL (C.UTF-8 or any collation,
    since only ASCII letters, digits and '.' occur). Characters are appended as hex code points
    so that different characters with the same reading still sort deterministically.
    """
    return sort_key_from(syllables(text, person=person), text)


def sort_key_from(syl: list[str], text: str) -> str:
    """The sort key for ``text`` whose syllables are already known (bulk loaders cache them)."""
    codes = "".join(f"{ord(c):x}" for c in unicodedata.normalize("NFKC", text) if not c.isspace())
    return (".".join(syl) + ".." + codes)[:255]
