"""Search documents: the text indexed by SQLite FTS5 (unicode61) and PostgreSQL GIN (as tsvectors).

Why a precomputed document: FTS5's trigram tokenizer and pg_trgm both miss 2-character Chinese
queries (华为, 张伟). Instead every record gets a document of plain ASCII tokens:

* each CJK unigram and bigram, written as ``u`` + hex code points (``张伟`` → ``u5f20u4f1f``), so
  neither engine's tokenizer or locale can split or drop them;
* pinyin: full (``zhangwei``), syllables (``zhang``, ``wei``) and initials (``zw``);
* words and numbers in Latin script, lower-cased;
* every suffix (4+ digits) of every phone number, so a prefix query finds any digit fragment.

Queries are tokenised by the same code; ASCII tokens are matched as prefixes, CJK tokens exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from guanxi.search.pinyin import has_cjk, is_cjk, syllables

_LATIN_WORD = re.compile(r"[a-z0-9]+")
_SEGMENT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
MIN_DIGITS = 3
MAX_NAME_SYLLABLES = 24
# Longer words of free text are left out of documents (text_tokens): no one searches for them, and
# PostgreSQL's tsvector takes no word over 2047 bytes (search 0006). The fields of names, numbers
# and addresses are shorter.
MAX_TOKEN = 255


def _cjk_token(chars: str) -> str:
    return "u" + "u".join(f"{ord(c):x}" for c in chars)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def cjk_tokens(text: str) -> set[str]:
    """Unigrams and bigrams of each run of Chinese characters."""
    tokens: set[str] = set()
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", text):
        for i, char in enumerate(run):
            tokens.add(_cjk_token(char))
            if i + 1 < len(run):
                tokens.add(_cjk_token(run[i : i + 2]))
    return tokens


def name_tokens(name: str, *, person: bool = False) -> set[str]:
    """Tokens for a name: its characters plus full pinyin, syllables and initials."""
    text = _normalise(name)
    tokens = cjk_tokens(text) | set(_LATIN_WORD.findall(text))
    if has_cjk(text):
        tokens |= pinyin_tokens(syllables(text, person=person))
    return tokens


def pinyin_tokens(syl: list[str]) -> set[str]:
    """Syllables, plus full pinyin and initials from every syllable on, so that a prefix query
    finds a word inside the name: "tengda" and "td" find 深圳腾达贸易有限公司, "xiaoming" 王小明."""
    syl = syl[:MAX_NAME_SYLLABLES]
    tokens = set(syl)
    for i in range(len(syl)):
        tokens.add("".join(syl[i:]))
        tokens.add("".join(s[0] for s in syl[i:]))
    return tokens


def text_tokens(text: str) -> set[str]:
    """Tokens for free text (notes, summaries): CJK unigrams/bigrams and Latin words."""
    normalised = _normalise(text)
    return cjk_tokens(normalised) | {w for w in _LATIN_WORD.findall(normalised) if len(w) <= MAX_TOKEN}


def digit_tokens(phone: str) -> set[str]:
    digits = re.sub(r"\D", "", _normalise(phone))
    if len(digits) < MIN_DIGITS:
        return set()
    tokens = {digits[i:] for i in range(len(digits) - MIN_DIGITS + 1)}
    # Numbers stored in E.164 (+86…) are also found by their national form.
    if digits.startswith("86") and len(digits) > 11:
        national = digits[2:]
        tokens.update(national[i:] for i in range(len(national) - MIN_DIGITS + 1))
    return tokens


def email_tokens(email: str) -> set[str]:
    email = _normalise(email)
    words = set(_LATIN_WORD.findall(email))
    local = email.split("@", 1)[0]
    words.add(re.sub(r"[^a-z0-9]", "", local))
    return {w for w in words if w}


def build(
    *,
    names: Iterable[str] = (),
    person_names: Iterable[str] = (),
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    texts: Iterable[str] = (),
) -> str:
    tokens: set[str] = set()
    for name in names:
        tokens |= name_tokens(name)
    for name in person_names:
        tokens |= name_tokens(name, person=True)
    for phone in phones:
        tokens |= digit_tokens(phone)
    for email in emails:
        tokens |= email_tokens(email)
    for text in texts:
        tokens |= text_tokens(text)
    return " ".join(sorted(tokens))


def scope(
    owner_id: int | None,
    team_id: int | None,
    *,
    shared_users: Iterable[int | None] = (),
    shared_teams: Iterable[int | None] = (),
) -> str:
    """The visibility keys of a customer's rows, indexed beside the document (``search_scope``).

    ``o<owner id>`` and ``t<team id>``: a salesperson's search asks the index for ``o<me>``, a
    manager's for ``t<team>`` per managed team, so the engine intersects the match with the
    user's rows inside the index (FTS5 column filter; PostgreSQL GIN over both columns) instead of
    checking every match, or every visible row, one by one. User terms only ever match
    ``search_doc``.

    A customer shared with a user also carries ``u<user id>``, shared with a team ``s<team id>``:
    whoever it is shared with finds all their shared customers' rows with one or two keys
    (``u<me> s<my team>``), however many shares there are. Keys of customer ids (one per shared
    customer, asked for 300 at a time) cost a salesperson with 330 shares ~8 ms per searched
    table at 1M customers. The keys only make the index fast; who may see a row is still decided
    by the shares table (customers.selectors).
    """
    keys = [f"o{owner_id}"] if owner_id else []
    if team_id:
        keys.append(f"t{team_id}")
    keys += [f"u{user_id}" for user_id in sorted({u for u in shared_users if u})]
    keys += [f"s{share_team}" for share_team in sorted({t for t in shared_teams if t})]
    return " ".join(keys)


def grantee_keys(user_id: int, team_id: int | None) -> str:
    """The keys (any of them) of the rows shared with a user, directly or with their team (see scope)."""
    return f"u{user_id} s{team_id}" if team_id else f"u{user_id}"


@dataclass(frozen=True)
class QueryTerm:
    token: str
    prefix: bool


def parse_query(query: str, *, max_terms: int = 8) -> list[QueryTerm]:
    """Split a user's query into terms that must all match.

    A Chinese run of one character is a unigram; longer runs become their bigrams (a 3+ character
    run matches when all its bigrams are present). Latin words and digits match as prefixes, so
    ``zhangw`` finds 张伟 and ``0139`` finds any number containing it.
    """
    terms: dict[str, QueryTerm] = {}
    for segment in _SEGMENT.findall(_normalise(query)):
        if is_cjk(segment[0]):
            grams = [segment] if len(segment) == 1 else [segment[i : i + 2] for i in range(len(segment) - 1)]
            for gram in grams:
                token = _cjk_token(gram)
                terms.setdefault(token, QueryTerm(token, prefix=False))
        else:
            terms.setdefault(segment, QueryTerm(segment, prefix=True))
    return list(terms.values())[:max_terms]
