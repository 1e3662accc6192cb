-- mart.objective: each quality-objective measure that has a target for the period's year (the label's
-- year: 2025-Q1 is judged against 2025 targets in both schemes), for the department and per unit.
-- A unit's own target (core.target.unit = the unit) overrides the department's ('all').
create or replace table mart.objective as
with rows as (
    select
        k.*,
        cast(left(k.period, 4) as integer) as target_year
    from mart.kpi_period as k
    where k.dimension in ('all', 'unit')
),

targeted as (
    select
        r.period_scheme,
        r.period,
        r.grain,
        r.period_name,
        r.dimension,
        r.dimension_value,
        t.measure,
        case t.measure
            when 'on_time_rate' then r.on_time_rate
            when 'early_rate' then r.early_rate
            when 'late_rate' then r.late_rate
            when 'satisfaction_rate' then r.satisfaction_rate
            when 'apology_rate' then r.apology_rate
            when 'rating_coverage' then r.rating_coverage
            when 'score_766_progress' then r.score_766_progress
            when 'score_766_satisfaction' then r.score_766_satisfaction
        end as value,
        t.op as target_op,
        t.value as target_value,
        t.target_text,
        t.source as target_source
    from rows as r
    inner join core.target as t
        on t.year = r.target_year
        and (t.unit = 'all' or (r.dimension = 'unit' and t.unit = r.dimension_value))
    qualify row_number() over (
        partition by r.period_scheme, r.period, r.dimension, r.dimension_value, t.measure
        order by t.unit = 'all'
    ) = 1
),

judged as (
    select
        targeted.*,
        case target_op
            when '>=' then round(value, 10) >= target_value
            when '>' then round(value, 10) > target_value
            when '<=' then round(value, 10) <= target_value
            when '<' then round(value, 10) < target_value
        end as met
    from targeted
)

select
    period_scheme,
    period,
    dimension,
    dimension_value,
    measure,
    value,
    target_op,
    target_value,
    target_text,
    met,
    case when met then 'Đạt' when not met then 'Không đạt' end as verdict,
    case measure
        when 'on_time_rate' then 'Tỷ lệ giải quyết đúng hạn (trước hạn và đúng hạn)'
        when 'early_rate' then 'Tỷ lệ giải quyết trước hạn'
        when 'late_rate' then 'Tỷ lệ giải quyết quá hạn'
        when 'satisfaction_rate' then 'Tỷ lệ hài lòng (rất hài lòng và hài lòng)'
        when 'apology_rate' then 'Tỷ lệ hồ sơ quá hạn có văn bản xin lỗi, hẹn lại'
        when 'rating_coverage' then 'Tỷ lệ hồ sơ được đánh giá'
        when 'score_766_progress' then 'Điểm tiến độ giải quyết (QĐ 766)'
        when 'score_766_satisfaction' then 'Điểm mức độ hài lòng (QĐ 766, mục 5.4)'
        when 'warning_rate' then 'Tỷ lệ hồ sơ sắp đến hạn được cảnh báo kịp thời'
        else measure
    end as measure_name,
    grain,
    period_name,
    target_source
from judged
order by period_scheme, grain, period, dimension, dimension_value collate vi, measure;
