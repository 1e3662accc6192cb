-- Citizen ratings, exact re-exports collapsed, each mapped to its class through the rating scale
-- (compared accent- and case-insensitively, đ as d), with whether the rated case is known.
insert into core.rating
with ratings as (
    select
        case_id, rated_at, rating,
        min(source_file) as source_file,
        min(source_row) as source_row
    from raw.rating_row
    anti join (select distinct file_sha, source_row from ops.quarantine) as q using (file_sha, source_row)
    group by case_id, rated_at, rating
),
scale as (
    select replace(strip_accents(lower(trim(rating_key))), 'đ', 'd') as rating_key, any_value(rating_class) as rating_class
    from core.rating_scale
    group by 1
)
select
    r.case_id,
    r.rated_at,
    r.rating,
    s.rating_class,
    r.case_id in (select case_id from core.case) as case_known,
    r.source_file,
    r.source_row
from ratings as r
left join scale as s on s.rating_key = replace(strip_accents(lower(trim(r.rating))), 'đ', 'd');
