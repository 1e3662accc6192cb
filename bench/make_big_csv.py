#!/usr/bin/env python3
"""Write N synthetic cases as a CSV export with Vietnamese headers (DESIGN §8 names), for benchmarks.

usage: make_big_csv.py N OUT.csv [SEED]. Rows: ~96% early/on time, ~3% late, ~1% open; dates
dd/mm/yyyy HH:MM; codes as text; an applicant-name column (personal data the pipeline must drop).
"""

import sys

import duckdb

n, out = int(sys.argv[1]), sys.argv[2]
seed = float(sys.argv[3]) if len(sys.argv) > 3 else 0.42
con = duckdb.connect()
con.execute("select setseed(?)", [seed])
con.execute(
    """
    create table big as
    with base as (
        select i,
               timestamp '2024-01-01 07:30' + to_days(cast(floor(random() * 700) as int))
                   + to_minutes(cast(floor(random() * 540) as int)) as rec,
               cast(1 + floor(random() * 10) as int) as lim,
               random() as r
        from range(?) t(i)
    ), c as (
        select i, rec, rec + to_days(lim) + interval 8 hour as due,
               case when r < 0.01 then null
                    when r < 0.04 then rec + to_days(lim) + interval 8 hour + to_minutes(cast(5 + floor(random() * 3000) as int))
                    else rec + to_minutes(cast(floor(random() * lim * 1440) as int)) end as fin, r
        from base
    )
    select printf('000.00.20.H55-%06d', i) as "Mã hồ sơ",
           printf('1.00%04d', i % 60) as "Mã TTHC",
           'Thủ tục số ' || (i % 60) as "Tên thủ tục",
           case i % 4 when 0 then 'Đường bộ' when 1 then 'Đăng kiểm' when 2 then 'Đường thủy nội địa' else 'Vận tải' end as "Lĩnh vực",
           'Phòng ' || (i % 9) as "Đơn vị xử lý",
           case when r < 0.6 then 'Trực tuyến' when r < 0.95 then 'Trực tiếp' else 'Bưu chính công ích' end as "Hình thức nộp",
           strftime(rec, '%d/%m/%Y %H:%M') as "Ngày tiếp nhận",
           strftime(due, '%d/%m/%Y %H:%M') as "Ngày hẹn trả",
           strftime(fin, '%d/%m/%Y %H:%M') as "Ngày kết thúc xử lý",
           strftime(fin + interval 2 hour, '%d/%m/%Y %H:%M') as "Ngày trả kết quả",
           case when fin is null then 'Đang xử lý' else 'Đã trả kết quả' end as "Trạng thái",
           'Nguyễn Văn Bench ' || i as "Chủ hồ sơ"
    from c
    """,
    [n],
)
con.execute("copy big to ? (header, delimiter ',')", [out])
print(f"wrote {n} rows to {out}")
