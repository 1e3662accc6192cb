"""Personal data in free text: phone numbers, ID-card numbers, e-mail addresses and known names masked.

Used on every free-text value the pipeline keeps (status texts, skipped rows, quarantined values, file
names), so a phone typed into a status ("Đang xử lý - đã gọi 0912345678") never reaches a table, a log
or a report (Decree 13/2023/NĐ-CP).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MASK = "[đã ẩn]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Vietnamese phones: 0 or +84/84 then 9-10 digits, possibly grouped by spaces, dots or dashes.
_PHONE = re.compile(r"(?<![\w])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?![\w])")
# ID numbers: 9-digit CMND, 12-digit CCCD / personal identification number.
_ID_NUMBER = re.compile(r"(?<![\w.-])(?:\d{12}|\d{9})(?![\w.-])")


def mask_personal_data(text: str, names: Iterable[str] = ()) -> str:
    """The text with e-mails, phones, ID numbers and the given names (case-insensitive) masked."""
    if not text:
        return text
    masked = _EMAIL.sub(MASK, text)
    masked = _PHONE.sub(MASK, masked)
    masked = _ID_NUMBER.sub(MASK, masked)
    for name in sorted({n for n in names if n and len(n.strip()) >= 3}, key=len, reverse=True):
        pattern = re.escape(unicodedata.normalize("NFC", name.strip()))
        masked = re.sub(pattern, MASK, unicodedata.normalize("NFC", masked), flags=re.IGNORECASE)
    return masked
