"""E-mail each unit its warning list (optional; skipped when ``smtp_host`` is empty).

Recipients come from ``settings.unit_emails``: ``"Phòng Quản lý vận tải=vantai@so.gov.vn;Phòng
Kết cấu hạ tầng=hatang@so.gov.vn,truongphong@so.gov.vn"`` (unit names compared after Unicode NFC,
case-insensitively). A unit with warnings gets one message: a Vietnamese plain-text body and the
same list as HTML, UTF-8 subject: its cases, its directive tasks (as lead unit) and its PAKN, each
group apart. Only codes, procedures, titles as stored (personal data masked) and times are sent — never
anything about the applicant or the sender. A unit with no warnings gets nothing. A failed delivery is reported, never raised:
the nightly run's figures do not depend on the mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pipeline.formatting import nfc
from pipeline.report.warnings import UnitWarnings, WarningList, load_warnings, render_template
from pipeline.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What happened to one unit's e-mail."""

    unit: str
    recipients: list[str] = field(default_factory=list)
    status: str = "sent"  # sent | failed | no_address
    detail: str = ""


def _key(unit: str) -> str:
    return nfc(unit).casefold().strip()


def parse_unit_emails(text: str) -> dict[str, list[str]]:
    """``"Unit=a@x;Unit 2=b@x,c@x"`` → ``{normalised unit: [addresses]}``; a one-line error if malformed."""
    result: dict[str, list[str]] = {}
    for item in (text or "").split(";"):
        if not item.strip():
            continue
        unit, sep, addresses = item.partition("=")
        emails = [a.strip() for a in addresses.split(",") if a.strip()]
        if not sep or not unit.strip() or not emails or any("@" not in a or " " in a for a in emails):
            raise ValueError(f"unit_emails: {item.strip()!r} is not 'Unit name=address[,address]'")
        result.setdefault(_key(unit), []).extend(emails)
    return result


def subject_for(unit: UnitWarnings, warnings: WarningList) -> str:
    """``[TTHC] Phòng Quản lý vận tải: 3 hồ sơ cần xử lý (1 quá hạn, 2 sắp đến hạn); 1 nhiệm vụ (1 quá hạn) –
    24:00 ngày 31/03/2025`` (directive tasks and PAKN only when the unit has some)."""
    return f"[TTHC] {unit.unit}: {unit.summary_text} – {warnings.as_of_text}"


def build_message(settings: Settings, warnings: WarningList, unit: UnitWarnings, recipients: list[str],
                  report_link: str | None = None) -> EmailMessage:
    """One unit's message: plain text and HTML alternatives, UTF-8 throughout."""
    context = {"w": warnings, "u": unit, "report_link": report_link, "department": settings.department_name}
    message = EmailMessage()
    message["Subject"] = subject_for(unit, warnings)
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=True)
    domain = settings.smtp_sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid("tthc", domain=domain)
    message.set_content(render_template("email.txt.j2", **context), cte="quoted-printable")
    message.add_alternative(render_template("email.html.j2", **context), subtype="html", cte="quoted-printable")
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    try:
        server.ehlo()
        if settings.smtp_tls:
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            server.login(settings.smtp_user, password)
    except BaseException:
        server.close()
        raise
    return server


def send_warning_emails(settings: Settings, warnings: WarningList | None = None,
                        report_link: str | None = None) -> list[Delivery]:
    """E-mail every unit that has warnings and an address; returns one :class:`Delivery` per such unit.

    Nothing is sent (and ``[]`` returned) when ``settings.smtp_host`` is empty.
    """
    if not settings.smtp_host:
        return []
    addresses = parse_unit_emails(settings.unit_emails)
    warnings = warnings or load_warnings(settings)
    deliveries: list[Delivery] = []
    to_send: list[tuple[Delivery, EmailMessage]] = []
    for unit in warnings.units:
        recipients = addresses.get(_key(unit.unit), [])
        if not recipients:
            deliveries.append(Delivery(unit.unit, [], "no_address", "no address in unit_emails"))
            continue
        delivery = Delivery(unit.unit, recipients)
        deliveries.append(delivery)
        to_send.append((delivery, build_message(settings, warnings, unit, recipients, report_link)))
    if not to_send:
        return deliveries
    try:
        server = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        detail = f"cannot connect to {settings.smtp_host}:{settings.smtp_port} ({type(exc).__name__}: {exc})"
        for delivery, _ in to_send:
            delivery.status, delivery.detail = "failed", detail.splitlines()[0]
        log.warning("warning e-mails not sent: %s", detail)
        return deliveries
    try:
        for delivery, message in to_send:
            try:
                refused = server.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                delivery.status, delivery.detail = "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
                continue
            if refused:
                delivery.detail = "refused: " + ", ".join(sorted(refused))
                if len(refused) == len(delivery.recipients):
                    delivery.status = "failed"
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return deliveries


def deliveries_line(deliveries: list[Delivery]) -> str:
    """A one-line summary for the run log: ``e-mails: 2 sent, 1 failed, 1 without address``."""
    sent = sum(d.status == "sent" for d in deliveries)
    failed = [d for d in deliveries if d.status == "failed"]
    missing = sum(d.status == "no_address" for d in deliveries)
    text = f"e-mails: {sent} sent, {len(failed)} failed, {missing} unit(s) without address"
    if failed:
        text += f" (first failure: {failed[0].unit}: {failed[0].detail})"
    return text
