-- Core layer: one current row per case, its state history, supplements, ratings, and the reference
-- tables (calendar, periods, procedures, targets) the marts judge by. Times are naive local times
-- in Asia/Ho_Chi_Minh. Created empty here; filled by the warehouse build (pipeline/warehouse/build.py).
create schema if not exists raw;
create schema if not exists core;
create schema if not exists mart;
create schema if not exists ops;

create table core.case (
    case_id            varchar,               -- Mã hồ sơ, text as exported; one row per case by construction
    procedure_code     varchar,               -- Mã TTHC, text (1.000250 stays 1.000250)
    procedure_name     varchar,
    sector_code        varchar,
    sector             varchar,
    unit               varchar,
    agency             varchar,               -- Cơ quan chủ trì giải quyết (logbook), beside the unit
    channel            tinyint,               -- 1 trực tiếp, 2 trực tuyến, 3 bưu chính công ích
    status             tinyint,               -- national TrangThaiHoSo 1..10
    in_scope           boolean,               -- false for 1 (not yet accepted) and 3 (refused at intake)
    is_resolved        boolean,               -- status 7, 8, 9 or 10
    received_at        timestamp,
    due_at             timestamp,             -- first appointment
    due_at_source      varchar,               -- 'export' or 'computed' (from the legal limit)
    legal_due_at       timestamp,             -- receipt plus the procedure's legal limit (working calendar)
    finished_at        timestamp,
    returned_at        timestamp,
    end_at             timestamp,             -- actual end by the end_time_rule (before pauses), NULL if open
    end_at_source      varchar,               -- 'finished_at', 'returned_at' or NULL
    apology_at         timestamp,
    new_due_at         timestamp,
    reschedule_count   integer,               -- distinct new appointments seen across exports
    applicant_hash     varchar,               -- salted hash; never the identity itself
    time_unknown       varchar,               -- times the export gave as a date only: 'received_at,due_at', …
    end_time_unknown   boolean,               -- the end time (end_at) is a date without a time of day
    exported_at        timestamp,             -- export time of the file that gave this row
    source_file        varchar,
    source_row         integer,
    state_count        integer,               -- distinct states seen for this case
    file_sha           varchar                -- SHA-256 of that file's content
);

create table core.case_state_history (
    case_id        varchar,
    exported_at    timestamp,
    status         tinyint,
    due_at         timestamp,
    finished_at    timestamp,
    returned_at    timestamp,
    apology_at     timestamp,
    new_due_at     timestamp,
    source_file    varchar,
    source_row     integer,
    is_current     boolean
);

create table core.supplement (
    case_id        varchar,
    seq            integer,
    requested_at   timestamp,
    received_at    timestamp,                 -- NULL while waiting for the applicant
    new_due_at     timestamp
);

create table core.rating (
    case_id        varchar,
    rated_at       timestamp,
    rating         varchar,                   -- as exported (NFC)
    rating_class   varchar,                   -- satisfied | neutral | unsatisfied | NULL (not on the scale)
    case_known     boolean,
    source_file    varchar,
    source_row     integer
);

create table core.procedure (
    procedure_code varchar primary key,
    procedure_name varchar,
    sector_code    varchar,
    sector         varchar,
    unit           varchar,
    limit_amount   double,
    limit_unit     varchar                    -- working_days | calendar_days | hours
);

create table core.work_day (
    day                date primary key,
    is_working_day     boolean,
    work_minutes       integer,
    cum_minutes_before bigint                 -- working minutes from the calendar origin to 00:00 of day
);

create table core.work_minute (
    minute_of_day      smallint primary key,  -- 0..1439
    worked_before      smallint,              -- working minutes of a working day before this minute
    session_no         smallint               -- 1-based session this minute is in, or the next one (n+1 after the last)
);

create table core.period (
    period_scheme  varchar,                   -- calendar | official
    grain          varchar,                   -- month | quarter | half | year
    period         varchar,                   -- 2025-01, 2025-Q1, 2025-H1, 2025
    period_name    varchar,                   -- Tháng 01/2025, Quý I/2025, …
    first_day      date,
    last_day       date,
    period_start   timestamp,
    period_end     timestamp,                 -- 24:00 of last_day
    judged_at      timestamp,                 -- period_end, or the end of the as-of day for the current period
    is_complete    boolean,
    primary key (period_scheme, period)
);

-- every period from the calendar's origin to the as-of date; core.period keeps those the records span
create table core.period_catalogue as select * from core.period with no data;

create table core.target (
    year           integer,
    unit           varchar,                   -- 'all' for the department
    measure        varchar,
    op             varchar,
    value          double,
    target_text    varchar,
    source         varchar
);

-- Directives (DESIGN §10): one current row per task of the executive-management software.
create table core.directive (
    task_id            varchar primary key,   -- Số hiệu / mã nhiệm vụ, text as exported
    title              varchar,               -- the longest title seen (exports may truncate it)
    assigned_by        varchar,
    leader             varchar,
    source_document    varchar,
    assigned_at        timestamp,
    lead_unit          varchar,
    co_units           varchar,               -- '; '-separated (also core.directive_co_unit)
    status             tinyint,               -- directive_codes.status: 1 not started, 2 in progress,
                                              -- 3 completed, 4 suspended, 5 returned / withdrawn
    status_text        varchar,
    in_scope           boolean,               -- false for 5
    is_completed       boolean,               -- status 3 (or no status and a completion date)
    is_suspended       boolean,               -- status 4 and not completed: not due while suspended
    completed_at       timestamp,             -- NULL unless completed
    deadline_original  timestamp,             -- first deadline (a date without a time is at 00:00 here)
    deadline_extended  timestamp,             -- the latest extension's new deadline; NULL without extension
    deadline_text      varchar,               -- deadline as exported when it was not a date (no deadline)
    extension_count    integer,
    exported_at        timestamp,
    source_file        varchar,
    source_row         integer,
    file_sha           varchar
);

-- Every extension of a task's deadline, as history: from extension columns or history sheets of the
-- exports ('export'), or seen as a later deadline in a re-export ('deadline_change').
create table core.directive_extension (
    task_id            varchar,
    seq                integer,               -- 1, 2, … in order of the new deadline
    old_deadline       timestamp,
    new_deadline       timestamp,
    extension_reason   varchar,
    extended_at        timestamp,
    source             varchar,               -- export | deadline_change
    task_known         boolean,               -- the task is in core.directive
    source_file        varchar,
    source_row         integer
);

create table core.directive_co_unit (
    task_id            varchar,
    unit               varchar
);

-- Feedback and complaints about TTHC (PAKN, DESIGN §11): one current row per PAKN. The sender is
-- kept as a salted hash only; the complaint's text is never stored.
create table core.feedback (
    feedback_id        varchar primary key,
    title              varchar,               -- personal data masked (***)
    category           varchar,
    case_id            varchar,               -- related case, as exported
    case_known         boolean,               -- the related case is in core.case
    unit               varchar,               -- handling unit, else the related case's unit
    sent_at            timestamp,
    received_at        timestamp,
    clock_start_at     timestamp,             -- received_at, else sent_at: the time limits run from here
    status             tinyint,               -- feedback_codes.status 1..7
    status_text        varchar,
    in_scope           boolean,               -- false for 7 (withdrawn by the sender)
    is_handled         boolean,
    handling           varchar,               -- answered | refused | more_info (NULL while open)
    handled_at         timestamp,             -- answered, refused or more information requested
    published_at       timestamp,
    reaction           varchar,               -- satisfied | unsatisfied | none
    likes              integer,
    dislikes           integer,
    is_disliked        boolean,               -- unsatisfied reaction, or more dislikes than likes
    repeated           boolean,               -- flagged as a repeated complaint about a result
    repeat_followed    boolean,               -- a later PAKN of the same sender about the same case
    sender_hash        varchar,
    exported_at        timestamp,
    source_file        varchar,
    source_row         integer,
    file_sha           varchar
);
