"""Warning e-mails to units, through a tiny local SMTP server on 127.0.0.1 (no TLS, no network)."""

from __future__ import annotations

import socket
import socketserver
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy

import pytest
from test_warnings import UNIT_A, UNIT_B, make_warehouse

from pipeline import db
from pipeline.notify import deliveries_line, parse_unit_emails, send_warning_emails
from pipeline.settings import load_settings

APPLICANT = "Nguyễn Văn Bình"


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self._reply("220 127.0.0.1 test SMTP ready")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 HELP\r\n")
            elif verb == "HELO":
                self._reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    data_line = self.rfile.readline()
                    if data_line in (b".\r\n", b".\n", b""):
                        break
                    body.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                self.server.messages.append((sender, list(recipients), b"".join(body)))
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[tuple[str, list[str], bytes]] = []


@pytest.fixture
def smtp_server():
    server = _SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "tthc.duckdb"
    make_warehouse(path)
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


def decoded(raw: bytes):
    message = message_from_bytes(raw, policy=default_policy)
    subject = str(make_header(decode_header(message["Subject"])))
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return message, subject, text, html


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
    assert by_unit["(không xác định)"].status == "no_address"
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
