-- mart.bieu06: Biểu số 06/VPCP/KSTT (Circular 01/2020/TT-VPCP), "Tình hình, kết quả giải quyết TTHC",
-- by sector (lĩnh vực, in Vietnamese alphabetical order) for every period, with a total row ("Tổng cộng")
-- first.
-- Columns c3..c13 are the form's columns (3)..(13): (3) = (4)+(5)+(6), (7) = (8)+(9)+(10),
-- (11) = (12)+(13), (3) = (7)+(11).
create or replace table mart.bieu06 as
with lines as (
    select
        k.period_scheme,
        k.period,
        k.grain,
        k.period_name,
        k.first_day,
        k.last_day,
        k.dimension = 'all' as is_total,
        case when k.dimension = 'all' then 'Tổng cộng' else k.dimension_value end as sector,
        k.received_total,
        k.received_online,
        k.received_offline,
        k.carried_over,
        k.resolved_total,
        k.early,
        k.on_time,
        k.late,
        k.open_total,
        k.open_in_time,
        k.open_overdue
    from mart.kpi_period as k
    where k.dimension = 'all' or (k.dimension = 'sector' and k.received_total > 0)
)

select
    period_scheme,
    period,
    case
        when not is_total
            then row_number() over (partition by period_scheme, period, is_total order by sector collate vi)
    end as row_no,
    sector,
    received_total as c3_received_total,
    received_online as c4_received_online,
    received_offline as c5_received_offline,
    carried_over as c6_carried_over,
    resolved_total as c7_resolved_total,
    early as c8_early,
    on_time as c9_on_time,
    late as c10_late,
    open_total as c11_open_total,
    open_in_time as c12_open_in_time,
    open_overdue as c13_open_overdue,
    is_total,
    grain,
    period_name,
    first_day,
    last_day
from lines
order by
    period_scheme,
    case grain when 'month' then 1 when 'quarter' then 2 when 'half' then 3 else 4 end,
    first_day,
    is_total desc,
    row_no;
