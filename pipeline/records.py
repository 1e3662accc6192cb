"""The canonical records, declared once: what a reader produces, what the raw layer stores, what the
expectation suites check and which header synonyms may name.

Three families of exports feed the warehouse, each with its own header vocabulary (a section of
``config/header_synonyms.toml``):

- ``case``: the one-stop system's case lists (cases, their supplement cycles, citizens' ratings);
- ``directive``: the executive-management software's task lists (DESIGN §10);
- ``feedback``: the PAKN system's feedback and complaints (DESIGN §11).

A *file kind* is what one export holds (``cases``, ``ratings``, ``directives``, ``feedback``); it is
recognised by the fields its header names (:attr:`FileKind.required`) and yields one primary record
and possibly dependent ones (a case list also yields supplement cycles and ratings).

Everything else derives from this module: the raw tables' DDL (:func:`raw_table_ddl`), the readers'
output columns and dtypes, the suites' ``columns`` meta (checked by a test) and the synonyms' field
names (checked by a test).
"""

from __future__ import annotations

from dataclasses import dataclass

# Field types: how a value is read and stored.
#   code   text kept exactly (codes: leading zeros, no space collapsing)   varchar
#   text   NFC text, whitespace collapsed                                  varchar
#   time   local time in Asia/Ho_Chi_Minh, naive                           timestamp
#   state  a coded value looked up in the family's code table              tinyint
#   int    a whole number                                                  integer
#   flag   yes / no                                                        boolean
#   hash   salted SHA-256 of personal data                                 varchar
#   masked NFC text with the personal data it may quote replaced by ***   varchar
#          (the row's own personal-data values, e-mail addresses, phone and ID numbers, names after
#          "ông", "bà", "anh", "chị": a PAKN title such as "Phản ánh của bà … về …")
#   row    the row of the export a record came from                        integer
SQL_TYPES = {
    "code": "varchar", "text": "varchar", "time": "timestamp", "state": "tinyint", "int": "integer",
    "flag": "boolean", "hash": "varchar", "masked": "varchar", "row": "integer",
}
PANDAS_DTYPES = {"state": "Int8", "int": "Int64", "flag": "boolean", "row": "int64", "time": "datetime64[us]"}
LINEAGE_COLUMNS = (("file_sha", "varchar"), ("source_file", "varchar"), ("exported_at", "timestamp"))


@dataclass(frozen=True)
class Field:
    """One column of a canonical record."""

    name: str
    type: str
    doc: str

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Record:
    """A canonical record: its columns (``source_row`` last), raw table, Parquet folder and suite."""

    name: str
    table: str  # raw-layer table, e.g. raw.case_row
    part: str  # folder of the Parquet raw layer, e.g. cases
    suite: str | None  # expectation suite (expectations/<suite>.json) checking these rows
    fields: tuple[Field, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def names_of(self, *types: str) -> tuple[str, ...]:
        """The columns of the given types, in declaration order."""
        return tuple(f.name for f in self.fields if f.type in types)


def _f(name: str, type_: str, doc: str) -> Field:
    return Field(name, type_, doc)


SOURCE_ROW = _f("source_row", "row", "row of the export (sheet row, physical CSV line, JSON position)")

CASE = Record("case", "raw.case_row", "cases", "cases", (
    _f("case_id", "code", "Mã hồ sơ"),
    _f("procedure_code", "code", "Mã TTHC"),
    _f("procedure_name", "text", "Tên thủ tục"),
    _f("sector_code", "code", "Mã lĩnh vực"),
    _f("sector", "text", "Lĩnh vực"),
    _f("unit", "text", "Đơn vị xử lý"),
    _f("agency", "text", "cơ quan chủ trì giải quyết (sổ Mẫu 06/07) khi tệp có cả cột đơn vị xử lý"),
    _f("channel", "state", "kênh: 1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích"),
    _f("received_at", "time", "ngày tiếp nhận"),
    _f("due_at", "time", "ngày hẹn trả (lần đầu)"),
    _f("finished_at", "time", "ngày kết thúc xử lý"),
    _f("returned_at", "time", "ngày trả kết quả"),
    _f("status", "state", "trạng thái hồ sơ, mã quốc gia 1..10"),
    _f("status_text", "text", "trạng thái như trong tệp xuất (đã che dữ liệu cá nhân)"),
    _f("apology_at", "time", "ngày văn bản xin lỗi"),
    _f("new_due_at", "time", "ngày hẹn trả mới"),
    _f("applicant_hash", "hash", "mã băm có muối của người nộp"),
    _f("time_unknown", "text", "các mốc chỉ có ngày, không có giờ (tên trường, cách nhau bởi dấu phẩy)"),
    SOURCE_ROW,
))
SUPPLEMENT = Record("supplement", "raw.supplement_row", "supplements", "supplements", (
    _f("case_id", "code", "Mã hồ sơ"),
    _f("seq", "row", "lần bổ sung 1, 2, …"),
    _f("requested_at", "time", "ngày yêu cầu bổ sung"),
    _f("received_at", "time", "ngày nhận hồ sơ bổ sung"),
    _f("new_due_at", "time", "ngày hẹn trả mới sau bổ sung"),
    SOURCE_ROW,
))
RATING = Record("rating", "raw.rating_row", "ratings", "ratings", (
    _f("case_id", "code", "Mã hồ sơ"),
    _f("rated_at", "time", "thời gian đánh giá"),
    _f("rating", "text", "mức độ hài lòng như trong tệp xuất"),
    SOURCE_ROW,
))
DIRECTIVE = Record("directive", "raw.directive_row", "directives", "directives", (
    _f("task_id", "code", "Số hiệu / mã nhiệm vụ"),
    _f("title", "text", "trích yếu nhiệm vụ (có thể bị cắt ngắn trong tệp xuất)"),
    _f("assigned_by", "text", "cơ quan giao"),
    _f("leader", "text", "lãnh đạo chỉ đạo"),
    _f("source_document", "text", "văn bản chỉ đạo (số, ký hiệu)"),
    _f("assigned_at", "time", "ngày giao"),
    _f("lead_unit", "text", "đơn vị chủ trì"),
    _f("co_units", "text", "đơn vị phối hợp, phân cách bằng ;"),
    _f("deadline", "time", "hạn xử lý như trong tệp xuất (NULL: không có hạn)"),
    _f("deadline_text", "text", "hạn như trong tệp xuất khi đó không phải là một ngày (quý IV/2025, 01/01/1970)"),
    _f("completed_at", "time", "ngày hoàn thành"),
    _f("status", "state", "trạng thái nhiệm vụ theo bảng mã directive_codes.status"),
    _f("status_text", "text", "trạng thái như trong tệp xuất"),
    SOURCE_ROW,
))
# One extension of a task's deadline: a row of the extension history sheet, or the extension columns
# (Hạn cũ / Hạn mới / Lý do gia hạn) of a task list row (then source_row is the task's row).
DIRECTIVE_EXTENSION = Record("directive_extension", "raw.directive_extension_row", "directive_extensions",
                             "directive_extensions", (
    _f("task_id", "code", "Số hiệu / mã nhiệm vụ"),
    _f("extension_seq", "int", "lần gia hạn 1, 2, … (NULL khi tệp xuất không ghi)"),
    _f("old_deadline", "time", "hạn cũ"),
    _f("new_deadline", "time", "hạn mới"),
    _f("extension_reason", "text", "lý do gia hạn"),
    _f("extended_at", "time", "ngày gia hạn (ngày duyệt)"),
    SOURCE_ROW,
))
FEEDBACK = Record("feedback", "raw.feedback_row", "feedback", "feedback", (
    _f("feedback_id", "code", "mã phản ánh, kiến nghị"),
    _f("title", "masked", "tiêu đề (dữ liệu cá nhân được che)"),
    _f("category", "text", "lĩnh vực / loại phản ánh"),
    _f("case_id", "code", "mã hồ sơ liên quan"),
    _f("unit", "text", "đơn vị xử lý"),
    _f("sent_at", "time", "ngày gửi"),
    _f("received_at", "time", "ngày tiếp nhận (hoặc ngày chuyển gần nhất)"),
    _f("status", "state", "trạng thái theo bảng mã feedback_codes.status"),
    _f("status_text", "text", "trạng thái như trong tệp xuất"),
    _f("handling", "state", "hình thức xử lý theo bảng mã feedback_codes.handling: 1 trả lời, 2 từ chối, "
                            "3 yêu cầu bổ sung thông tin"),
    _f("answered_at", "time", "ngày trả lời / xử lý (ngày từ chối, ngày yêu cầu bổ sung)"),
    _f("published_at", "time", "ngày công khai kết quả"),
    _f("reaction", "state", "phản hồi của người gửi theo bảng mã feedback_codes.reaction: 1 hài lòng, "
                            "2 không hài lòng, 3 chưa đánh giá"),
    _f("likes", "int", "số lượt thích / hài lòng"),
    _f("dislikes", "int", "số lượt không thích / không hài lòng"),
    _f("repeated", "flag", "phản ánh lặp lại về kết quả xử lý"),
    _f("sender_hash", "hash", "mã băm có muối của người gửi"),
    SOURCE_ROW,
))
RECORDS: dict[str, Record] = {
    r.name: r for r in (CASE, SUPPLEMENT, RATING, DIRECTIVE, DIRECTIVE_EXTENSION, FEEDBACK)
}


@dataclass(frozen=True)
class Family:
    """A header vocabulary: the synonyms section naming its fields and the fields headers may map to."""

    name: str
    section: str  # [<section>.<field>] tables of config/header_synonyms.toml
    sources: tuple[str, ...]  # fields a header (or JSON key) may name
    kinds: tuple[str, ...]  # file kinds of this family, most specific first


@dataclass(frozen=True)
class FileKind:
    """What one export holds; recognised when every group of ``required`` has one of its fields."""

    name: str
    family: str
    primary: str  # the record each data row becomes
    required: tuple[tuple[str, ...], ...]
    # records also assembled from each data row, kept where the row fills one of their own fields
    # (a task list's extension columns make a directive_extension)
    dependents: tuple[str, ...] = ()
    # file kinds whose sheets may accompany this one in a workbook (a task list's extension history sheet)
    companions: tuple[str, ...] = ()

    def recognised(self, targets: set[str]) -> bool:
        return all(any(f in targets for f in group) for group in self.required)

    def missing(self, targets: set[str]) -> list[str]:
        return [" or ".join(group) for group in self.required if not any(f in targets for f in group)]


# Personal data headers (any family): dropped at read; a salted hash of the identity is kept.
PII_SOURCES = (
    "applicant_name", "applicant_phone", "applicant_address", "applicant_id_number", "applicant_email",
    "applicant_birth_date",
)
# Free text of a complaint or note: personal by nature, never stored at all (not even hashed).
DROPPED_SOURCES = ("free_text",)
# A time that may be written as words keeps them in its "<name>_text" companion instead of sending the
# row to quarantine ("quý IV/2025": no deadline). A date before this one in such a field is a
# placeholder some systems write for "none" (01/01/1970, the Unix epoch): kept as text, time left empty.
PLACEHOLDER_DATES_BEFORE = "1970-01-02"
IGNORE = "ignore"

# The header fields of a supplement cycle's times (supplement_requested_at, …), in SUPPLEMENT's order.
SUPPLEMENT_SOURCES = tuple(f"supplement_{name}" for name in SUPPLEMENT.names_of("time"))
FAMILIES: dict[str, Family] = {
    "case": Family("case", "fields", (
        *(c for c in CASE.columns if c not in ("status_text", "applicant_hash", "time_unknown", "source_row")),
        *SUPPLEMENT_SOURCES, "supplements", "rating", "rated_at",
    ), ("cases", "ratings")),
    "directive": Family("directive", "directive_fields", tuple(dict.fromkeys(
        c for c in (*DIRECTIVE.columns, *DIRECTIVE_EXTENSION.columns)
        if c not in ("status_text", "deadline_text", "source_row")
    )), ("directives", "directive_extensions")),
    "feedback": Family("feedback", "feedback_fields", tuple(
        c for c in FEEDBACK.columns if c not in ("status_text", "sender_hash", "source_row")
    ), ("feedback",)),
}
FILE_KINDS: dict[str, FileKind] = {k.name: k for k in (
    FileKind("cases", "case", "case", (("case_id",), ("received_at",), ("status", "due_at"))),
    FileKind("ratings", "case", "rating", (("case_id",), ("rating",))),
    FileKind("directives", "directive", "directive", (("task_id", "title"), ("deadline", "assigned_at"),
                                                      ("lead_unit", "status")),
             dependents=("directive_extension",), companions=("directive_extensions",)),
    FileKind("directive_extensions", "directive", "directive_extension", (("task_id",), ("new_deadline",))),
    FileKind("feedback", "feedback", "feedback", (("feedback_id",), ("received_at", "sent_at"),
                                                  ("status", "answered_at"))),
)}


def raw_table_ddl(record: Record) -> str:
    """``create table`` of a record's raw-layer table: its columns, then the lineage columns."""
    columns = [f"{f.name} {f.sql_type}" for f in record.fields] + [f"{n} {t}" for n, t in LINEAGE_COLUMNS]
    return f"create table {record.table} ({', '.join(columns)})"
