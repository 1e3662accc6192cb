"""Warning e-mails to units, through a tiny local SMTP server on 127.0.0.1 (no TLS, no network; the
``smtp_server`` fixture of conftest.py)."""

from __future__ import annotations

import socket

import pytest
from helpers import decoded
from marts_fixtures import NO_UNIT, UNIT_A, UNIT_B, WARNING_AS_OF, Warehouse, add_warning_cases

from pipeline import db
from pipeline.notify import deliveries_line, parse_unit_emails, send_warning_emails
from pipeline.settings import load_settings

APPLICANT = "Nguyễn Văn Bình"


@pytest.fixture
def warehouse(tmp_path):
    """The warning cases of ``marts_fixtures`` built by the real SQL, saved to a file."""
    path = add_warning_cases(Warehouse.under(tmp_path, WARNING_AS_OF)).save_as_settings_warehouse().warehouse
    # a column the mart never has: if anything read it, the applicant's name would leak into the mail
    con = db.connect(path)
    con.execute("alter table mart.warnings add column applicant_name varchar")
    con.execute("update mart.warnings set applicant_name = ?", [APPLICANT])
    con.close()
    return path


def mail_settings(warehouse, port: int, **overrides):
    values = {
        "warehouse": warehouse, "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": False,
        "smtp_sender": "tthc@sogtvt.example.vn",
        "unit_emails": f"{UNIT_A}=vantai@sogtvt.example.vn; {UNIT_B.upper()}=hatang@sogtvt.example.vn,"
                       "truongphong@sogtvt.example.vn",
    }
    values.update(overrides)
    return load_settings(**values)


def test_parse_unit_emails():
    parsed = parse_unit_emails("Phòng A=a@x.vn; phòng b = b@x.vn, c@x.vn ;")
    assert parsed == {"phòng a": ["a@x.vn"], "phòng b": ["b@x.vn", "c@x.vn"]}
    assert parse_unit_emails("") == {}
    with pytest.raises(ValueError, match="unit_emails"):
        parse_unit_emails("Phòng A a@x.vn")
    with pytest.raises(ValueError):
        parse_unit_emails("Phòng A=not-an-address")


def test_skipped_without_smtp_host(warehouse):
    settings = load_settings(warehouse=warehouse, unit_emails=f"{UNIT_A}=a@x.vn")
    assert send_warning_emails(settings) == []


def test_each_unit_gets_its_warnings(warehouse, smtp_server):
    settings = mail_settings(warehouse, smtp_server.server_address[1])
    deliveries = send_warning_emails(settings, report_link="file:///srv/tthc/reports/warnings/index.html")
    by_unit = {d.unit: d for d in deliveries}
    assert by_unit[UNIT_A].status == "sent" and by_unit[UNIT_B].status == "sent"
    assert by_unit[NO_UNIT].status == "no_address"
    assert deliveries_line(deliveries) == "e-mails: 2 sent, 0 failed, 1 unit(s) without address"

    assert len(smtp_server.messages) == 2
    received = {tuple(rcpts): raw for _, rcpts, raw in smtp_server.messages}
    assert set(received) == {("vantai@sogtvt.example.vn",),
                             ("hatang@sogtvt.example.vn", "truongphong@sogtvt.example.vn")}
    assert {sender for sender, _, _ in smtp_server.messages} == {"tthc@sogtvt.example.vn"}

    raw = received[("vantai@sogtvt.example.vn",)]
    assert raw.isascii()  # UTF-8 subject and bodies are encoded for any 7-bit server
    message, subject, text, html = decoded(raw)
    assert subject.startswith(f"[TTHC] {UNIT_A}: 3 hồ sơ cần xử lý (1 quá hạn")
    assert message["To"] == "vantai@sogtvt.example.vn"
    assert "H55-0007" in text and "H55-0012" in text and "còn 3,5 giờ làm việc" in text
    assert "HT-000123" not in text  # another unit's case
    assert "H55-0007" in html and "<table" in html
    assert "file:///srv/tthc/reports/warnings/index.html" in text

    _, _, other_text, other_html = decoded(received[("hatang@sogtvt.example.vn", "truongphong@sogtvt.example.vn")])
    assert "HT-000123" in other_text
    assert "&lt;công trình&gt; &amp; đấu nối" in other_html  # HTML part autoescaped

    for _, _, raw in smtp_server.messages:
        _, subject, text, html = decoded(raw)
        assert APPLICANT not in subject + text + html


def test_unreachable_server_is_reported_not_raised(warehouse):
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    deliveries = send_warning_emails(mail_settings(warehouse, port))
    assert {d.status for d in deliveries if d.recipients} == {"failed"}
    assert "cannot connect to 127.0.0.1" in deliveries_line(deliveries)
