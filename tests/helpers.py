"""Helpers shared by several test modules (test modules never import from each other): settings under a
test folder, small one-stop case exports and the nightly flow's raw folder, a local SMTP server and the
messages it received, and the check that a spreadsheet cell would start a formula. Fixtures built on
them live in ``conftest.py``."""

from __future__ import annotations

import socketserver
from datetime import date
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy
from pathlib import Path

from pipeline.settings import Settings, load_settings

AS_OF = "2025-03-31"
# the columns of a one-stop system's case export as the small test exports write them
CASE_HEADER = ["Mã hồ sơ", "Mã TTHC", "Tên thủ tục", "Lĩnh vực", "Đơn vị xử lý", "Hình thức nộp", "Ngày tiếp nhận",
               "Ngày hẹn trả", "Ngày kết thúc xử lý", "Ngày trả kết quả", "Trạng thái", "Chủ hồ sơ", "Số điện thoại"]


def make_settings(folder: Path, as_of: date | str = AS_OF, *, name: str = "", **overrides) -> Settings:
    """Settings of a test under ``folder``: exports in ``raw/``, reports in ``reports/``, the warehouse in
    ``<name>/tthc.duckdb`` (directly in ``folder`` without a name), a fixed as-of date; ``overrides`` are
    any other settings (rules, ``procedures_file``)."""
    return load_settings(raw_dir=folder / "raw", reports_dir=folder / "reports",
                         warehouse=folder / name / "tthc.duckdb", as_of=as_of, **overrides)


# --- small case exports (ingest tests) -----------------------------------------------------------------

def case_line(case_id: str, received: str, due: str, finished: str = "", status: str = "Đang xử lý",
              name: str = "Trần Thị Bích", phone: str = "0912345678") -> str:
    """One CSV line of a case of procedure 1.000250 (finished and returned at the same moment)."""
    returned = finished
    return (f"{case_id},1.000250,Cấp phù hiệu xe,Vận tải,Phòng Quản lý vận tải,Trực tuyến,{received},{due},"
            f"{finished},{returned},{status},{name},{phone}")


def write_export(path: Path, lines: list[str]) -> Path:
    """A case export: the header and the given ``case_line`` lines (UTF-8, no BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([",".join(CASE_HEADER), *lines]) + "\n", encoding="utf-8")
    return path


# --- the nightly flow's raw folder (test_flows, test_served_deployment) --------------------------------

FLOW_UNIT = "Phòng Quản lý vận tải, phương tiện và người lái"
APPLICANT, PHONE = "Trần Thị Bích Ngọc", "0912345678"


def flow_case(case_id: str, received: str, due: str, finished: str = "", status: str = "Đang xử lý") -> list[str]:
    """One row (for ``fixtures_exports.write_csv`` under ``CASE_HEADER``) of a case of procedure 1.002835."""
    return [case_id, "1.002835", "Cấp giấy phép lái xe quốc tế", "Giấy phép lái xe", FLOW_UNIT, "Trực tuyến",
            received, due, finished, finished, status, APPLICANT, PHONE]


FIRST_EXPORT = [
    flow_case("TT-0001", "03/03/2025 08:00", "10/03/2025 08:00", "06/03/2025 10:00", "Đã trả kết quả"),  # early
    flow_case("TT-0002", "04/03/2025 09:00", "11/03/2025 09:00", "11/03/2025 08:30", "Đã trả kết quả"),  # on time
    flow_case("TT-0003", "05/03/2025 09:00", "12/03/2025 09:00", "13/03/2025 10:00", "Đã trả kết quả"),  # late
    flow_case("TT-0004", "25/03/2025 09:00", "01/04/2025 10:00"),  # open, 3 working hours left at 31/03 24:00
    flow_case("TT-0005", "10/03/2025 09:00", "17/03/2025 09:00"),  # open and overdue, no apology
]


# --- a local SMTP server (no TLS, no network) ----------------------------------------------------------

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


class SMTPServer(socketserver.ThreadingTCPServer):
    """An SMTP server on 127.0.0.1 (a free port) keeping every message as (sender, recipients, raw bytes)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[tuple[str, list[str], bytes]] = []


def decoded(raw: bytes):
    """A received message, its decoded subject, its plain-text and its HTML body."""
    message = message_from_bytes(raw, policy=default_policy)
    subject = str(make_header(decode_header(message["Subject"])))
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return message, subject, text, html


# --- spreadsheets ---------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def starts_formula(value: object) -> bool:
    """True for a cell text that Excel or LibreOffice would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)
