"""Personal data inside free text (Decree 13/2023/NĐ-CP): wherever the pipeline keeps text as written
(status texts, skipped layout rows, quarantined values, unmapped column samples, findings), phone
numbers, ID numbers, e-mail addresses and the applicants' own names are replaced by a mask."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

MASK = "[đã ẩn]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Vietnamese phone numbers: mobiles 0[35789]x xxx xxxx, landlines 02xx xxx xxxx, written with spaces,
# dots, dashes or brackets, or with +84 / 84 for the leading 0.
_PHONE = re.compile(r"(?<![\w.])(?:\+\s?84|84|\(?0)[\s.()-]*\d(?:[\s.()-]*\d){7,10}(?![\w])")
# ID numbers: 9-digit CMND, 12-digit CCCD / personal identification number (also grouped by 3 or 4).
_ID_NUMBER = re.compile(r"(?<![\d.,/:-])(?:\d{12}|\d{9}|\d{3}(?:[ .]\d{3}){2,3}|\d{4}(?:[ .]\d{4}){2})(?![\d/:])")
# A name after a form of address: "ông Nguyễn Văn A", "bà Lê Thị B", "anh Nam", "chị Hoa".
_UPPER = "A-ZĐÀÁẢÃẠĂẮẰẲẴẶÂẤẦẨẪẬÉÈẺẼẸÊẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌÔỐỒỔỖỘƠỚỜỞỠỢÚÙỦŨỤƯỨỪỬỮỰÝỲỶỸỴ"
_ADDRESSED = re.compile(
    rf"\b(?P<form>[Ôô]ng|[Bb]à|[Aa]nh|[Cc]hị|[Cc]ô|[Cc]hú|[Ee]m)\s+(?P<name>[{_UPPER}][\w]*(?:\s+[{_UPPER}][\w]*){{0,4}})"
)


def _phone_digits_ok(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    if text.lstrip("( ").startswith("+") or (digits.startswith("84") and not text.lstrip("( ").startswith("0")):
        return len(digits) in (11, 12)
    return digits.startswith("0") and len(digits) in (10, 11)


def _names_pattern(names: Iterable[str], text: str) -> re.Pattern[str] | None:
    """A pattern of the given names that occur in the text (words split by any white space, any case), or None
    when none does: most texts hold none, and compiling a pattern per row cost seconds a file."""
    cleaned = {" ".join(unicodedata.normalize("NFC", n).split()) for n in names if isinstance(n, str) and n.strip()}
    spaced = " ".join(text.split()).lower()
    present = tuple(sorted((n for n in cleaned if len(n) >= 2 and n.lower() in spaced), key=len, reverse=True))
    return _compiled_names(present) if present else None


@lru_cache(maxsize=1024)
def _compiled_names(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(r"\s+".join(map(re.escape, n.split())) for n in names), re.IGNORECASE)


def mask_personal_data(text: str, names: Iterable[str] = ()) -> str:
    """The text with phone numbers, ID numbers, e-mail addresses, names after a form of address and the
    given applicant names replaced by ``[đã ẩn]``; text without any comes back unchanged."""
    if not isinstance(text, str) or not text:
        return text
    masked = unicodedata.normalize("NFC", text)
    pattern = _names_pattern(names, masked)
    if pattern is not None:
        masked = pattern.sub(MASK, masked)
    masked = _EMAIL.sub(MASK, masked)
    masked = _PHONE.sub(lambda m: MASK if _phone_digits_ok(m.group(0)) else m.group(0), masked)
    masked = _ID_NUMBER.sub(MASK, masked)
    masked = _ADDRESSED.sub(lambda m: f"{m.group('form')} {MASK}", masked)
    return masked



# Vietnamese personal names in file and folder names (clerks name files after the applicant): a common
# surname, with or without diacritics, followed by two to four capitalised words ("Trần Thị Bích Ngọc",
# "Nguyen Van An"). Used on paths only, where no row tells which names the file holds.
_SURNAMES = (
    "Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|Lý|Đinh|Trương|Lâm|Mai|Tô|Hà|Đào|Cao|"
    "Lương|Trịnh|Đoàn|Vương|Tạ|Châu|Nguyen|Tran|Le|Pham|Hoang|Huynh|Vu|Vo|Dang|Bui|Do|Ho|Ngo|Duong|Ly|Dinh|"
    "Truong|Lam|Luong|Trinh|Doan|Vuong|Ta|Chau"
)
_PERSON_NAME = re.compile(
    rf"(?<![^\W_])(?:{_SURNAMES})(?:[\s_.-]+[{_UPPER}][^\W\d_]*){{2,4}}(?![^\W_])"
)


def mask_person_names(text: str) -> str:
    """The text with Vietnamese full names (a common surname and two to four capitalised words) masked."""
    if not isinstance(text, str) or not text:
        return text
    return _PERSON_NAME.sub(MASK, unicodedata.normalize("NFC", text))


def mask_row_texts(texts, row_values=()):
    """A column of texts (pandas Series) masked row by row: each row's own personal-data values (its
    applicant's or sender's name, phone, address … of the same export row) and the patterns above."""
    import pandas as pd

    own = [v.reset_index(drop=True) for v in row_values]
    out = []
    for position, text in enumerate(texts.tolist()):
        if not isinstance(text, str) or not text:
            out.append(text)
            continue
        names = [values.iat[position] for values in own if position < len(values)]
        out.append(mask_personal_data(text, [str(n) for n in names if isinstance(n, str) or n == n]))
    return pd.Series(pd.array(out, dtype=texts.dtype if len(texts) else "str"), index=texts.index)
