-- mart.objective: each quality-objective measure that has a target for the period's year (the label's
-- year: 2025-Q1 is judged against 2025 targets in both schemes), for the department and per unit.
-- A unit's own target (core.target.unit = the unit) overrides the department's ('all'). Measures come
-- from the cases (mart.kpi_period), the directives (mart.directive_kpi_period; dimension 'unit' is the
-- lead unit) and the feedback and complaints (mart.feedback_kpi_period; the handling unit).
create or replace table mart.objective as
with measure_values as (
    -- cases (mart.kpi_period)
    select
        k.period_scheme, k.period, k.grain, k.period_name, k.dimension, k.dimension_value,
        unnest([
            {'measure': 'on_time_rate', 'value': k.on_time_rate},
            {'measure': 'early_rate', 'value': k.early_rate},
            {'measure': 'late_rate', 'value': k.late_rate},
            {'measure': 'satisfaction_rate', 'value': k.satisfaction_rate},
            {'measure': 'apology_rate', 'value': k.apology_rate},
            {'measure': 'rating_coverage', 'value': k.rating_coverage},
            {'measure': 'score_766_progress', 'value': k.score_766_progress},
            {'measure': 'score_766_satisfaction', 'value': k.score_766_satisfaction}
        ], recursive := true)
    from mart.kpi_period as k
    where k.dimension in ('all', 'unit')
    union all
    -- directives (mart.directive_kpi_period, the deadline basis $directive_objective_basis): "hoàn thành
    -- đúng hạn" is the strict rate (completed on time / due); the headline rate is shown beside it
    select
        d.period_scheme, d.period, d.grain, d.period_name, d.dimension, d.dimension_value,
        unnest([
            {'measure': 'directive_on_time_rate', 'value': d.strict_rate},
            {'measure': 'directive_completion_rate', 'value': d.headline_rate}
        ], recursive := true)
    from mart.directive_kpi_period as d
    where d.deadline_basis = $directive_objective_basis
    union all
    -- feedback and complaints (mart.feedback_kpi_period)
    select
        f.period_scheme, f.period, f.grain, f.period_name, f.dimension, f.dimension_value,
        unnest([
            {'measure': 'feedback_handled_rate', 'value': f.handled_rate},
            {'measure': 'feedback_on_time_rate', 'value': f.on_time_rate},
            {'measure': 'feedback_rate_5_2', 'value': f.rate_5_2},
            {'measure': 'feedback_rate_5_3', 'value': f.rate_5_3}
        ], recursive := true)
    from mart.feedback_kpi_period as f
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
        r.value,
        t.op as target_op,
        t.value as target_value,
        t.target_text,
        t.source as target_source
    from measure_values as r
    inner join core.target as t
        on t.measure = r.measure
        and t.year = cast(left(r.period, 4) as integer)
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
        when 'directive_on_time_rate' then 'Tỷ lệ ý kiến chỉ đạo của UBND tỉnh hoàn thành đúng hạn'
        when 'directive_completion_rate' then 'Tỷ lệ ý kiến chỉ đạo đến hạn đã hoàn thành (đúng hạn và quá hạn)'
        when 'feedback_handled_rate' then 'Tỷ lệ phản ánh, kiến nghị được xử lý (không để quá hạn)'
        when 'feedback_on_time_rate' then 'Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn'
        when 'feedback_rate_5_2' then 'Tỷ lệ tiến độ xử lý phản ánh, kiến nghị (QĐ 766, mục 5.2)'
        when 'feedback_rate_5_3' then 'Tỷ lệ hài lòng về xử lý phản ánh, kiến nghị (QĐ 766, mục 5.3)'
        else measure
    end as measure_name,
    grain,
    period_name,
    target_source
from judged
order by period_scheme, grain, period, dimension, dimension_value collate vi, measure;
