"""The demo world: every case's full timeline (receipt, processing, supplement cycles, finish, return,
apology, rating), simulated on the working-time calendar, and its state as seen at any moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import holidays as holidays_lib
import numpy as np
import pandas as pd

from pipeline.demo.catalogue import JSON_UNIT, RATING_LEVELS, fake_applicants
from pipeline.warehouse.build import legal_due_times
from pipeline.workcal import WorkCalendar

NAT = np.datetime64("NaT", "s")
TARGET_CASES_TWO_YEARS = 60_000
LATE_TARGET = 0.025  # mean probability of a case being late on time grounds (before two-cycle cases)
WEEKDAY_FACTOR = np.array([1.30, 1.10, 1.00, 0.95, 0.85, 0.80, 0.80])  # Monday … Sunday (swapped Saturdays)
CASE_PREFIX = "000.00.20.H55"

# Timeline columns, in the order their events happen to a case.
EVENT_COLUMNS = ["received_at", "processing_at", "sup1_requested_at", "sup1_received_at", "sup2_requested_at",
                 "sup2_received_at", "fee_at", "finished_at", "returned_at", "apology_at"]


def two_years_before(day: date) -> date:
    """The same calendar day two years earlier (28 Feb for 29 Feb)."""
    try:
        return day.replace(year=day.year - 2)
    except ValueError:
        return day.replace(year=day.year - 2, day=28)


@dataclass
class World:
    """All simulated cases (one row each, full timeline) and the window they were simulated for."""

    cases: pd.DataFrame
    start: date
    end: date
    seed: int
    _arrays: dict = field(default_factory=dict, repr=False)

    def array(self, name: str) -> np.ndarray:
        """A column as a numpy array (object dtype for text), cached."""
        if name not in self._arrays:
            column = self.cases[name]
            dtype = object if column.dtype.kind not in "biufM" else None
            self._arrays[name] = column.to_numpy(dtype=dtype)
        return self._arrays[name]


class _Clock:
    """Vectorised helpers on the working-minute index of a calendar."""

    def __init__(self, cal: WorkCalendar):
        self.cal = cal
        self.origin = np.datetime64(cal.origin, "D")
        self.cum_before = cal.days["cum_minutes_before"].to_numpy()
        self.working = cal.days["is_working_day"].to_numpy()
        self.last_session_end = cal.sessions[-1][1]

    def idx(self, moments: np.ndarray) -> np.ndarray:
        """Working-minute index of datetime64 values (seconds dropped)."""
        return self.cal.working_index(np.asarray(moments).astype("datetime64[m]"))

    def at(self, indexes: np.ndarray) -> np.ndarray:
        """Earliest moment (datetime64[s]) of each working-minute index."""
        return self.cal.moment_at_index(np.asarray(indexes, dtype=np.int64)).astype("datetime64[s]")

    def snap_back(self, moments: np.ndarray) -> np.ndarray:
        """The moment if in working time, else the end of the previous working session."""
        return self.at(self.idx(moments))

    def snap_forward(self, moments: np.ndarray) -> np.ndarray:
        """The moment if in working time, else the start of the next working session."""
        return self.at(self.idx(moments) + 1) - np.timedelta64(60, "s")

    def day_number(self, moments: np.ndarray) -> np.ndarray:
        return (np.asarray(moments).astype("datetime64[D]") - self.origin).astype(np.int64)


def tet_dates(country: str, first_year: int, last_year: int) -> list[date]:
    """First day of the lunar new year (Tết) for each year, from the holidays package."""
    found = []
    for year in range(first_year, last_year + 1):
        for day, name in holidays_lib.country_holidays(country, years=year).items():
            if name == "Lunar New Year":
                found.append(day)
    return sorted(found)


def daily_factor(clock: _Clock, day_numbers: np.ndarray, tets: list[date]) -> np.ndarray:
    """Relative arrival volume of each day: 0 on days off, a weekday pattern, a lull around Tết, a surge after."""
    dates = clock.origin + day_numbers
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    factor = WEEKDAY_FACTOR[weekday] * clock.working[day_numbers]
    for tet in tets:
        offset = (dates - np.datetime64(tet, "D")).astype(np.int64)
        factor = np.where((offset >= -9) & (offset <= 11), factor * 0.45, factor)
        factor = np.where((offset >= 12) & (offset <= 32), factor * 1.35, factor)
    return factor


def _uniform_int(rng: np.random.Generator, low, high) -> np.ndarray:
    """Integers uniformly in [low, high] (inclusive, element-wise; high < low gives low)."""
    low = np.asarray(low, dtype=np.int64)
    high = np.maximum(np.asarray(high, dtype=np.int64), low)
    return low + np.floor(rng.random(np.broadcast(low, high).shape) * (high - low + 1)).astype(np.int64)


def _minutes(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype("timedelta64[m]").astype("timedelta64[s]")


def simulate_world(cal: WorkCalendar, catalogue: pd.DataFrame, seed: int, start: date, end: date) -> World:
    """Simulate every case received from ``start`` to ``end + 1 day`` with its whole future timeline."""
    clock = _Clock(cal)
    streams = np.random.SeedSequence([seed, 84_055]).spawn(6)
    rng_arrival, rng_case, rng_time, rng_pii, rng_rating, rng_apology = (np.random.default_rng(s) for s in streams)

    # --- arrivals: working days only, weekday pattern, Tết lull and surge ----------------------------
    horizon = end + timedelta(days=1)
    tets = tet_dates(cal.country, start.year - 1, horizon.year + 1)
    day_numbers = np.arange((start - cal.origin).days, (horizon - cal.origin).days + 1)
    ref_start = two_years_before(end)
    ref_days = np.arange((ref_start - cal.origin).days + 1, (end - cal.origin).days + 1)
    base = TARGET_CASES_TWO_YEARS / daily_factor(clock, ref_days, tets).sum()
    counts = rng_arrival.poisson(base * daily_factor(clock, day_numbers, tets))
    n = int(counts.sum())
    case_day = np.repeat(day_numbers, counts)
    morning = rng_arrival.random(n) < 0.62
    offset = np.where(morning, rng_arrival.integers(1, 270, n), rng_arrival.integers(271, 480, n))
    seconds = rng_arrival.integers(0, 60, n)
    order = np.lexsort((seconds, offset, case_day))
    case_day, offset, seconds = case_day[order], offset[order], seconds[order]
    r_idx = clock.cum_before[case_day] + offset
    received_min = clock.at(r_idx)
    received = received_min + seconds.astype("timedelta64[s]")

    # case codes 000.00.20.H55-YYMMDD-NNNN, numbered in receipt order each day
    _, first_of_day, per_day = np.unique(case_day, return_index=True, return_counts=True)
    sequence = np.arange(n) - np.repeat(first_of_day, per_day) + 1
    day_label = {int(d): (clock.origin + d).astype(object).strftime("%y%m%d") for d in np.unique(case_day)}
    case_id = [f"{CASE_PREFIX}-{day_label[d]}-{s:04d}" for d, s in zip(case_day.tolist(), sequence.tolist(), strict=True)]

    # --- procedure, unit, channel --------------------------------------------------------------
    weights = catalogue["weight"].to_numpy()
    proc = rng_case.choice(len(catalogue), n, p=weights / weights.sum())
    units = catalogue["unit"].to_numpy()[proc]
    in_json = units == JSON_UNIT
    progress = np.clip((case_day - (ref_start - cal.origin).days) / max((end - ref_start).days, 1), 0.0, 1.0)
    p_online = 0.40 + 0.30 * progress
    u = rng_case.random(n)
    channel = np.where(u < p_online, 2, np.where(u < p_online + 0.05, 3, 1)).astype(np.int64)

    # --- first appointment from the legal limit --------------------------------------------------
    limit_amount = catalogue["limit_amount"].to_numpy()[proc]
    limit_unit = catalogue["limit_unit"].to_numpy()[proc]
    starts = pd.to_datetime(received_min).to_pydatetime().tolist()
    due = np.array(legal_due_times(cal, zip(starts, limit_amount.tolist(), limit_unit.tolist(), strict=True)),
                   dtype="datetime64[s]")
    d_idx = clock.idx(due)
    due_day_start = clock.cum_before[clock.day_number(due)]

    # --- fate: terminal status, supplement cycles, intended timeliness ----------------------------
    fate = rng_case.random(n)
    terminal = np.where(fate < 0.01, 7, np.where(fate < 0.02, 8, 9))
    sup_draw = rng_case.random(n)
    n_sup = np.where(in_json, np.where(sup_draw < 0.045, 2, np.where(sup_draw < 0.125, 1, 0)),
                     np.where(sup_draw < 0.10, 1, 0))
    due_dates = due.astype("datetime64[D]")
    tet_factor = np.ones(n)
    for tet in tets:
        gap = (due_dates - np.datetime64(tet, "D")).astype(np.int64)
        tet_factor = np.where((gap >= -7) & (gap <= 21), 3.0, tet_factor)
    p_late = catalogue["proc_lateness"].to_numpy()[proc] * catalogue["unit_lateness"].to_numpy()[proc] * tet_factor
    p_late = np.clip(p_late * LATE_TARGET / p_late.mean(), 0, 0.6)
    late_plan = rng_case.random(n) < p_late
    on_time_plan = rng_case.random(n) < 0.15
    minute_late = rng_case.random(n) < 0.22

    # intended adjusted end (before pauses), as a working-minute index
    early_span = due_day_start - (r_idx + 20)
    can_early = early_span > 0
    a_early = r_idx + 20 + np.floor(rng_time.beta(1.6, 2.4, n) * np.maximum(early_span, 0)).astype(np.int64)
    on_low = np.maximum(due_day_start, r_idx + 20) + 1
    a_on_time = _uniform_int(rng_time, on_low, d_idx - 2)
    stuck = rng_time.random(n) < 0.2  # a tail of cases stuck for weeks (open and overdue for a while)
    a_late = d_idx + 60 + np.where(stuck, rng_time.integers(5 * 480, 30 * 480, n),
                                   np.floor(rng_time.exponential(1100.0, n)).astype(np.int64))
    plan_late = late_plan
    plan_on_time = ~plan_late & (on_time_plan | ~can_early)
    a_idx = np.where(plan_late, a_late, np.where(plan_on_time, a_on_time, a_early))
    adjusted_plan = clock.at(a_idx)
    few_minutes = plan_late & minute_late
    adjusted_plan = np.where(few_minutes, due + _minutes(rng_time.integers(5, 31, n)), adjusted_plan)
    a_idx = np.where(few_minutes, clock.idx(adjusted_plan), a_idx)

    # processing starts soon after receipt
    p_idx = r_idx + np.minimum(rng_time.integers(5, 241, n), np.maximum((a_idx - r_idx) // 3, 1))
    processing = clock.at(p_idx)

    # supplement cycles: requested while processing, received after the applicant's delay
    span = np.maximum(a_idx - p_idx - 2, 1)
    u1 = np.where(n_sup >= 2, rng_time.uniform(0.1, 0.45, n), rng_time.uniform(0.15, 0.7, n))
    u2 = u1 + rng_time.uniform(0.1, 0.45, n)
    q1_idx = p_idx + 1 + np.floor(u1 * span).astype(np.int64)
    q1 = clock.at(q1_idx)
    delay1 = np.clip(rng_time.lognormal(np.log(3 * 1440), 0.8, n), 60, 30 * 1440).astype(np.int64)
    s1 = clock.snap_forward(q1 + _minutes(delay1))
    pause1 = s1 - q1
    q2 = clock.snap_back(clock.at(p_idx + 1 + np.floor(np.minimum(u2, 0.95) * span).astype(np.int64)) + pause1)
    q2 = np.maximum(q2, clock.at(clock.idx(s1) + 30))
    delay2 = np.clip(rng_time.lognormal(np.log(3 * 1440), 0.8, n), 60, 30 * 1440).astype(np.int64)
    s2 = clock.snap_forward(q2 + _minutes(delay2))
    pause2 = s2 - q2
    zero = np.timedelta64(0, "s")
    pause1 = np.where(n_sup >= 1, pause1, zero)
    pause2 = np.where(n_sup >= 2, pause2, zero)
    last_resume = np.where(n_sup >= 2, s2, np.where(n_sup >= 1, s1, processing))
    new_due1 = clock.at(clock.idx(s1) + np.maximum(d_idx - q1_idx, 60))
    new_due2 = clock.at(clock.idx(s2) + np.maximum(clock.idx(new_due1) - clock.idx(q2), 60))

    # finish: the planned adjusted end plus the pauses, kept in working time after the last resumption
    finished = adjusted_plan + pause1 + pause2
    paused = n_sup >= 1
    snapped = clock.snap_back(finished)
    jitter = np.where(snapped != finished, rng_time.integers(1, 121, n), 0)  # off-hours: some time before
    finished = np.where(paused, clock.at(clock.idx(snapped) - jitter), finished)
    finished = np.where(paused, np.maximum(finished, clock.at(clock.idx(last_resume) + 10)), finished)

    # a few cases wait for fees before finishing (status 6)
    fee = clock.snap_back(finished - _minutes(rng_time.integers(60, 1201, n)))
    fee_ok = (terminal != 7) & (rng_time.random(n) < 0.05) & (fee > np.maximum(last_resume, processing)) & (
        fee < finished)
    fee = np.where(fee_ok, fee, NAT)

    # return of the result: online soon after, in person or by post a little later; some never collected
    f_idx = clock.idx(finished)
    ret_secs = rng_time.integers(0, 60, n).astype("timedelta64[s]")
    returned = np.where(
        channel == 2, finished + _minutes(rng_time.integers(2, 121, n)),
        np.where(channel == 3, clock.at(f_idx + rng_time.integers(480, 1441, n)),
                 clock.at(f_idx + rng_time.integers(10, 1441, n)))) + ret_secs
    returned_stop = finished + _minutes(rng_time.integers(10, 241, n)) + ret_secs
    returns = rng_time.random(n)
    returned = np.where((terminal == 9) & (returns < 0.9), returned,
                        np.where((terminal == 8) & (returns < 0.5), returned_stop, NAT))

    # judged outcome (DESIGN §4): adjusted end against the first appointment
    adjusted = finished - pause1 - pause2
    late_by_time = adjusted > due
    late = late_by_time | (n_sup >= 2)
    early = ~late & (adjusted.astype("datetime64[D]") < due_dates)
    outcome = np.where(late, "late", np.where(early, "early", "on_time"))

    # apology letters with a new appointment for most late cases (the national sync carries none)
    has_apology = late_by_time & ~in_json & (rng_apology.random(n) < 0.85)
    kind = rng_apology.random(n)
    ap_idx = np.where(kind < 0.8, d_idx - rng_apology.integers(480, 1441, n),
                      np.where(kind < 0.9, d_idx - rng_apology.integers(30, 471, n),
                               d_idx + rng_apology.integers(10, 481, n)))
    ap_idx = np.maximum(np.minimum(ap_idx, f_idx - 1), p_idx + 1)
    apology = np.where(has_apology, clock.at(ap_idx), NAT)
    nd = clock.at(np.maximum(f_idx, d_idx) + rng_apology.integers(60, 961, n))
    end_of_day = nd.astype("datetime64[D]") + np.timedelta64(
        clock.last_session_end.hour * 3600 + clock.last_session_end.minute * 60, "s")
    nd = np.where(rng_apology.random(n) < 0.6, end_of_day, nd)
    new_due = np.where(has_apology, nd, NAT)

    # citizen ratings for about a third of returned results
    returned_ok = (terminal == 9) & ~np.isnat(returned)
    rated = returned_ok & (rng_rating.random(n) < 0.33)
    rated_at = returned + _minutes(np.clip(rng_rating.lognormal(np.log(180), 1.3, n), 1, 7200).astype(np.int64)) \
        + rng_rating.integers(0, 60, n).astype("timedelta64[s]")
    good = rng_rating.choice(len(RATING_LEVELS), n, p=[0.70, 0.265, 0.012, 0.011, 0.012])
    bad = rng_rating.choice(len(RATING_LEVELS), n, p=[0.45, 0.35, 0.05, 0.05, 0.10])
    rating = np.array(RATING_LEVELS, dtype=object)[np.where(late, bad, good)]

    names, phones, ids, addresses = fake_applicants(rng_pii, catalogue["business"].to_numpy()[proc])

    cat = catalogue
    frame = pd.DataFrame({
        "case_id": np.array(case_id, dtype=object),
        "procedure_code": cat["procedure_code"].to_numpy(dtype=object)[proc],
        "procedure_name": cat["procedure_name"].to_numpy(dtype=object)[proc],
        "sector_code": cat["sector_code"].to_numpy(dtype=object)[proc],
        "sector": cat["sector"].to_numpy(dtype=object)[proc],
        "unit": units.astype(object),
        "limit_amount": limit_amount,
        "limit_unit": limit_unit.astype(object),
        "channel": channel,
        "applicant": names,
        "phone": phones,
        "id_number": ids,
        "address": addresses,
        "received_at": received,
        "processing_at": processing,
        "due_at": due,
        "sup1_requested_at": np.where(n_sup >= 1, q1, NAT),
        "sup1_received_at": np.where(n_sup >= 1, s1, NAT),
        "sup1_new_due_at": np.where(n_sup >= 1, new_due1, NAT),
        "sup2_requested_at": np.where(n_sup >= 2, q2, NAT),
        "sup2_received_at": np.where(n_sup >= 2, s2, NAT),
        "sup2_new_due_at": np.where(n_sup >= 2, new_due2, NAT),
        "fee_at": fee,
        "finished_at": finished,
        "terminal_status": terminal,
        "returned_at": returned,
        "apology_at": apology,
        "new_due_at": new_due,
        "rated_at": np.where(rated, rated_at, NAT),
        "rating": np.where(rated, rating, None),
        "supplements": n_sup,
        "paused_seconds": (pause1 + pause2).astype(np.int64),
        "adjusted_end_at": adjusted,
        "outcome": outcome,
        "in_json_unit": in_json,
    })
    return World(frame, start, end, seed)


@dataclass
class Snapshot:
    """What an export made at ``at`` shows: the visible cases (positions into the world) and their fields."""

    at: np.datetime64
    rows: np.ndarray
    status: np.ndarray
    fields: dict[str, np.ndarray]


def snapshot(world: World, at: datetime | np.datetime64, rows: np.ndarray | None = None) -> Snapshot:
    """The state at moment ``at`` of the cases received by then (or of ``rows``): events after it are hidden."""
    t = np.datetime64(at, "s")
    if rows is None:
        rows = np.flatnonzero(world.array("received_at") <= t)

    def col(name: str) -> np.ndarray:
        return world.array(name)[rows]

    def seen(name: str) -> np.ndarray:
        values = col(name)
        return np.where(values <= t, values, NAT)

    status = np.full(len(rows), 2, dtype=np.int64)
    for name, code in (("processing_at", 4), ("sup1_requested_at", 5), ("sup1_received_at", 4),
                       ("sup2_requested_at", 5), ("sup2_received_at", 4), ("fee_at", 6)):
        status = np.where(col(name) <= t, code, status)
    terminal = col("terminal_status")
    status = np.where(col("finished_at") <= t, terminal, status)
    status = np.where((col("returned_at") <= t) & (terminal == 9), 10, status)
    fields = {name: seen(name) for name in (
        "finished_at", "returned_at", "sup1_requested_at", "sup1_received_at", "sup1_new_due_at",
        "sup2_requested_at", "sup2_received_at", "sup2_new_due_at", "apology_at", "new_due_at")}
    # the new appointment after a supplement is known once the supplement is received
    fields["sup1_new_due_at"] = np.where(~np.isnat(fields["sup1_received_at"]), col("sup1_new_due_at"), NAT)
    fields["sup2_new_due_at"] = np.where(~np.isnat(fields["sup2_received_at"]), col("sup2_new_due_at"), NAT)
    fields["new_due_at"] = np.where(~np.isnat(fields["apology_at"]), col("new_due_at"), NAT)
    return Snapshot(t, rows, status, fields)


def changed_between(world: World, after: np.datetime64, until: np.datetime64) -> np.ndarray:
    """Positions of cases with any event in (after, until]: their state changed in that window."""
    hit = np.zeros(len(world.cases), dtype=bool)
    for name in EVENT_COLUMNS:
        values = world.array(name)
        hit |= (values > after) & (values <= until)
    return np.flatnonzero(hit)


def ratings_between(world: World, after: np.datetime64 | None, until: np.datetime64) -> np.ndarray:
    """Positions of cases rated in (after, until], in rating-time order."""
    rated = world.array("rated_at")
    mask = rated <= until
    if after is not None:
        mask &= rated > after
    rows = np.flatnonzero(mask)
    return rows[np.argsort(rated[rows], kind="stable")]
