"""Every setting of the pipeline, typed, in one place, with its default and one line of help.

Precedence (lowest to highest): defaults below, environment variables ``TTHC_<NAME>``
(for example ``TTHC_EARLY_RULE=working_hours``), then command-line flags
(``--warehouse``, ``--as-of``, … or the generic ``--set name=value``).
The README's settings table is produced by :func:`settings_markdown_table`; a test checks that
the README documents every field.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.periods import GRAINS

CONFIG_DIR = Path(__file__).parent / "config"


class Settings(BaseSettings):
    """The pipeline's settings; one instance is passed explicitly to every function that needs one."""

    model_config = SettingsConfigDict(env_prefix="TTHC_", extra="forbid", validate_default=True)

    # --- paths -------------------------------------------------------------------------------
    raw_dir: Path = Field(Path("data/raw"), description="Folder (searched at any depth) where exports land.")
    warehouse: Path = Field(
        Path("data/warehouse/tthc.duckdb"),
        description="The DuckDB warehouse file analysts open; its folder also holds the Parquet raw layer.",
    )
    warehouse_storage_version: str = Field(
        "v1.0.0",
        description="DuckDB storage format the warehouse file is written in, so analysts' DuckDB 1.x CLI, DBeaver and ODBC open it.",
    )
    warehouse_memory_mb: int = Field(
        768,
        gt=0,
        description="Memory DuckDB may use while building or reading the warehouse for reports; larger "
                    "intermediate results spill to a temporary folder beside the warehouse.",
    )
    reports_dir: Path = Field(Path("reports"), description="Where HTML scorecards, warnings and validation reports go.")
    expectations_dir: Path = Field(
        Path("expectations"), description="Folder of the Great Expectations suites (JSON), versioned with the code."
    )
    targets_file: Path = Field(
        CONFIG_DIR / "targets.toml", description="Versioned file of quality-objective targets per year (and unit)."
    )
    calendar_overrides_file: Path = Field(
        CONFIG_DIR / "calendar_overrides.toml",
        description="Yearly extra days off and extra working days decided by the government or the province.",
    )
    header_synonyms_file: Path = Field(
        CONFIG_DIR / "header_synonyms.toml",
        description="Export column headers recognised for each field; add a source system's headers here.",
    )
    status_map_file: Path = Field(
        CONFIG_DIR / "status_map.toml",
        description="Versioned mapping of case-state and channel wordings to the national codes, with ambiguous wordings and per-source meanings.",
    )
    procedures_file: Path = Field(
        CONFIG_DIR / "procedures.csv",
        description="Procedure catalogue (code, name, sector, legal time limit and its unit) used to compute missing due dates.",
    )
    # --- identity and time -------------------------------------------------------------------
    department_name: str = Field("Sở Giao thông vận tải", description="Department name printed on scorecards.")
    province_name: str = Field("Quảng Ngãi", description="Province name printed on scorecards and Biểu 06.")
    timezone: str = Field("Asia/Ho_Chi_Minh", description="Time zone all case times are read and compared in.")
    as_of: date | None = Field(
        None,
        description="Judge and report as of the end of this date; empty means yesterday, the last complete day.",
    )
    # --- working-time calendar (DESIGN §7) ----------------------------------------------------
    work_sessions: str = Field(
        "07:00-11:30,13:30-17:00", description="Working sessions of a working day, comma-separated HH:MM-HH:MM."
    )
    work_weekdays: str = Field("0,1,2,3,4", description="Working weekdays, 0 = Monday … 6 = Sunday.")
    holidays_country: str = Field("VN", description="Country whose public holidays (the holidays package) apply.")
    # --- periods (DESIGN §5) ------------------------------------------------------------------
    period_scheme: Literal["calendar", "official"] = Field(
        "calendar", description="Default reporting-period scheme: calendar, or official 15th-to-14th cut-off."
    )
    scorecard_grains: str = Field(
        "quarter,half,year",
        description="Which periods get scorecards by default, comma-separated: month, quarter, half (6 months), year.",
    )
    # --- timeliness rules (DESIGN §4) ---------------------------------------------------------
    end_time_rule: Literal["finished_else_returned", "finished_only", "returned_only"] = Field(
        "finished_else_returned",
        description="End time of a resolved case: finished_at, falling back to returned_at (a data-quality finding).",
    )
    subtract_supplement_pauses: bool = Field(
        True, description="Subtract each supplement-request pause from the end time before judging it."
    )
    multiple_supplements_late: bool = Field(
        True, description="More than one supplement request makes a case late (national index rule)."
    )
    early_rule: Literal["calendar_day", "working_hours", "half_day"] = Field(
        "calendar_day",
        description="Early = ends on an earlier day than due; or ≥ early_working_hours before due; or an earlier half-day session.",
    )
    early_working_hours: float = Field(
        8.0, description="With early_rule=working_hours: working hours before due that count as early."
    )
    # --- measures, warnings and thresholds ----------------------------------------------------
    rating_scale: str = Field(
        "rất hài lòng=satisfied,hài lòng=satisfied,chấp nhận được=neutral,bình thường=neutral,"
        "không hài lòng=unsatisfied,rất không hài lòng=unsatisfied,1=satisfied,2=satisfied,3=neutral,4=unsatisfied",
        description="How rating texts or codes map to satisfied / neutral / unsatisfied (4- or 5-level scales).",
    )
    apology_lead_working_days: float = Field(
        1.0, description="An apology counts as timely when issued at least this many working days before due."
    )
    warning_within_hours: float = Field(
        8.0, description="Warn about open cases due within this many working hours of the as-of moment."
    )
    # --- directives (DESIGN §10) and feedback and complaints (DESIGN §11) -----------------------
    directive_due_soon_working_days: float = Field(
        3.0, description="A directive task still open is 'due soon' when its deadline is within this many working days."
    )
    directive_objective_basis: Literal["extended", "original"] = Field(
        "extended",
        description="Deadline the directive objective (tasks finished on time) is judged against: the extended "
        "deadline where an extension was granted, or always the original one.",
    )
    feedback_answer_working_days: float = Field(
        15.0, description="A PAKN is answered on time within this many working days of its receipt (Decision 766, 5.2)."
    )
    feedback_refusal_working_days: float = Field(
        2.0, description="A PAKN refused (not accepted) is handled on time within this many working days of receipt."
    )
    feedback_more_info_working_days: float = Field(
        5.0, description="A request for more information on a PAKN is on time within this many working days of receipt."
    )
    feedback_due_soon_working_days: float = Field(
        2.0,
        description="An open PAKN is warned about as near its answer limit when the limit is within this many working days.",
    )
    feedback_publication_working_days: float = Field(
        2.0, description="An answer to a PAKN published later than this many working days after it was answered is late."
    )
    max_bad_row_share: float = Field(
        0.5, description="A file with a larger share of quarantined rows is rejected whole."
    )
    pii_salt: SecretStr | None = Field(
        None,
        description="Secret salt for hashing applicant identity; if empty, a random one is kept beside the warehouse.",
    )
    # --- reading exports: limits against hostile files (DESIGN §8.1) -----------------------------
    max_file_bytes: int = Field(
        1 << 30, gt=0, description="An export larger than this many bytes is rejected without being read."
    )
    max_uncompressed_bytes: int = Field(
        1 << 30,
        gt=0,
        description="A zipped workbook (xlsx, ods) whose parts unpack to more bytes than this is rejected before decompressing.",
    )
    max_compression_ratio: float = Field(
        200.0,
        gt=1,
        description="A part of a zipped workbook (over 1 MB unpacked) compressed more than this many times is rejected as a zip bomb.",
    )
    max_cell_chars: int = Field(
        32_767,
        gt=0,
        description="A longer cell quarantines its row; a text over 32 times this in bytes rejects the file unread.",
    )
    max_columns: int = Field(1_024, gt=0, description="A sheet, table or CSV wider than this many columns is rejected.")
    max_rows: int = Field(
        2_000_000, gt=0, description="A sheet, table or file with more rows than this is rejected before loading."
    )
    max_cells: int = Field(
        30_000_000,
        gt=0,
        description="A sheet whose used area (rows × columns, blanks included) is larger is rejected before loading.",
    )
    read_timeout_seconds: float = Field(
        300.0, gt=0, description="An isolated reader taking longer than this on one file is stopped; the file is rejected."
    )
    read_memory_mb: int = Field(
        4_096,
        gt=0,
        description="Address space an isolated reader may add while reading one file; beyond it the file is rejected.",
    )
    read_workers: int = Field(
        2, ge=1, description="Isolated reader processes reading exports in parallel (each within read_memory_mb)."
    )
    # --- nightly run and notification ---------------------------------------------------------
    schedule_cron: str = Field("0 2 * * *", description="Cron schedule of the served nightly deployment.")
    prefect_home: Path = Field(
        Path(".prefect"), description="Prefect's home (state database, logs) for ephemeral runs."
    )
    smtp_host: str | None = Field(None, description="SMTP server for e-mailing units their warnings; empty disables.")
    smtp_port: int = Field(587, description="SMTP server port.")
    smtp_sender: str = Field("tthc-noreply@localhost", description="Sender address of warning e-mails.")
    smtp_tls: bool = Field(True, description="Use STARTTLS with the SMTP server.")
    smtp_user: str | None = Field(None, description="SMTP login user; empty means no login.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (secret; environment only).")
    unit_emails: str = Field(
        "", description="Warning recipients, 'Unit name=address' pairs separated by ';'."
    )

    @field_validator("scorecard_grains")
    @classmethod
    def _known_grains(cls, value: str) -> str:
        grains = [g.strip() for g in value.split(",") if g.strip()]
        unknown = [g for g in grains if g not in GRAINS]
        if unknown or not grains:
            raise ValueError(f"scorecard_grains: {', '.join(unknown) or 'nothing'} is not one of {', '.join(GRAINS)}")
        return ",".join(g for g in GRAINS if g in grains)

    # ---------------------------------------------------------------------------------------
    @property
    def scorecard_grain_list(self) -> list[str]:
        """The grains of ``scorecard_grains``, in period order (month, quarter, half, year)."""
        return self.scorecard_grains.split(",")

    @property
    def raw_parquet_dir(self) -> Path:
        """Folder of the immutable Parquet raw layer (one file per ingested export)."""
        return self.warehouse.parent / "raw_parquet"

    @property
    def effective_as_of(self) -> date:
        """The as-of date, defaulting to yesterday: the nightly run (02:00) judges the day just ended at 24:00,
        so a case due later today is not reported overdue before its time."""
        return self.as_of or date.today() - timedelta(days=1)


def load_settings(**overrides: object) -> Settings:
    """Settings from defaults, environment and the given overrides (None values are ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def env_name(field_name: str) -> str:
    """The environment variable that sets a field."""
    return f"TTHC_{field_name.upper()}"


def settings_markdown_table() -> str:
    """A Markdown table of every setting: name, environment variable, default and help."""
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path) and default.is_absolute():
            default = f"pipeline/config/{default.name}"
        shown = "" if default is None else str(default)
        if len(shown) > 40:
            shown = shown[:37] + "…"
        rows.append(f"| `{name}` | `{env_name(name)}` | `{shown}` | {field.description} |")
    return "\n".join(rows)
