"""Reference data of the demo world: the procedure catalogue with volumes, units and their export habits,
and the pools fake applicant identities are drawn from (Vietnamese names, phones, addresses)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.settings import Settings

CATALOGUE_COLUMNS = ["procedure_code", "procedure_name", "sector_code", "sector", "unit", "limit_amount", "limit_unit"]

# National status codes and names (DESIGN §3).
STATUS_NAMES = {
    1: "Mới đăng ký",
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ",
    6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}
CHANNEL_NAMES = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}
RATING_LEVELS = ("Rất hài lòng", "Hài lòng", "Bình thường", "Chấp nhận được", "Không hài lòng")

# The unit whose cases come from the national sync (JSON) instead of the Excel reports.
JSON_UNIT = "Cảng vụ Đường thủy nội địa"

# Relative monthly volume of each procedure (unknown codes get 0.3) and how prone it is to run late.
PROCEDURE_VOLUME = {
    "1.002835": 6.0, "1.002804": 12.0, "1.002809": 2.0, "1.002820": 4.0, "1.001777": 0.5, "1.002793": 1.5,
    "1.000250": 0.8, "1.002801": 0.1, "1.002825": 0.6, "1.002856": 10.0, "1.002859": 3.0, "1.002861": 2.0,
    "1.002863": 0.8, "1.002877": 1.5, "1.002880": 1.0, "1.002883": 1.0, "1.002869": 1.5, "1.002871": 0.3,
    "1.002890": 0.4, "1.002887": 0.05, "1.001035": 1.5, "1.001061": 2.0, "1.001080": 0.3, "1.001093": 2.5,
    "1.001110": 0.5, "1.001120": 0.2, "1.001207": 2.5, "1.001213": 2.5, "1.001219": 0.4, "1.001225": 1.0,
    "1.001230": 0.5, "1.001236": 0.2, "1.001240": 0.2, "1.003930": 1.2, "1.003935": 0.6, "1.003940": 0.3,
    "1.003945": 0.3, "1.003950": 0.3, "1.003955": 0.2, "1.003960": 0.8, "1.005120": 0.4, "1.005125": 0.3,
    "1.005130": 0.2, "1.005135": 0.3, "1.005140": 0.15, "2.001250": 0.2, "2.001260": 0.3, "2.001265": 0.2,
    "2.001270": 0.15, "2.001275": 0.1,
}
PROCEDURE_LATENESS = {"1.001035": 2.5, "1.002877": 2.0, "1.001061": 2.0, "1.005120": 1.8, "1.001080": 1.5}
UNIT_LATENESS = {
    "Phòng Quản lý kết cấu hạ tầng giao thông": 3.0,
    "Thanh tra Sở": 4.0,
    "Phòng Quản lý chất lượng công trình giao thông": 2.5,
    "Phòng Kế hoạch - Tài chính": 1.5,
    "Trung tâm Đăng kiểm xe cơ giới": 0.6,
    "Văn phòng Sở": 0.5,
}
# Procedures whose applicants are mostly businesses.
BUSINESS_PROCEDURES = {
    "1.002801", "1.002856", "1.002859", "1.002861", "1.002863", "1.002877", "1.002880", "1.002883", "1.002869",
    "1.002871", "1.002890", "1.002887", "1.001035", "1.001061", "1.001080", "1.001093", "1.001110", "1.001120",
    "1.003945", "1.003950", "1.003955", "1.005120", "1.005125", "1.005130", "1.005135", "1.005140", "2.001250",
    "2.001260", "2.001265",
}

# Export habits per unit: the Excel layout variant, NFD text (an old export tool), and the report's signers.
UNIT_LAYOUT_B = {"Trung tâm Đăng kiểm xe cơ giới", "Văn phòng Sở", "Phòng Kế hoạch - Tài chính", "Thanh tra Sở"}
UNIT_NFD = {"Trung tâm Đăng kiểm xe cơ giới"}
SIGNERS = [
    ("Nguyễn Thị Hồng Nhung", "Trần Văn Quang"),
    ("Lê Thị Thu Hà", "Phạm Ngọc Sơn"),
    ("Võ Thị Kim Oanh", "Huỳnh Tấn Phát"),
    ("Đặng Minh Tuấn", "Bùi Quốc Khánh"),
    ("Phan Thị Mỹ Linh", "Ngô Văn Thành"),
]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý", "Trương", "Đinh", "Lâm", "Tạ", "Châu", "Đoàn", "Mai", "Cao"]
FAMILY_P = [0.32, 0.11, 0.08, 0.06, 0.06, 0.04, 0.04, 0.03, 0.06, 0.03, 0.03, 0.03, 0.02, 0.02, 0.02, 0.01, 0.02,
            0.01, 0.01, 0.01, 0.01, 0.02, 0.02, 0.02]
MIDDLE_MALE = ["Văn", "Minh", "Đức", "Quốc", "Hữu", "Thanh", "Công", "Ngọc", "Tấn", "Xuân", "Đình", "Trung"]
MIDDLE_FEMALE = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bích", "Hồng", "Thùy", "Diệu"]
GIVEN_MALE = ["An", "Bình", "Cường", "Dũng", "Hùng", "Hải", "Hiếu", "Khánh", "Long", "Minh", "Nam", "Phúc", "Quang",
              "Sơn", "Tâm", "Thắng", "Toàn", "Trí", "Tuấn", "Việt", "Vinh", "Đạt", "Hòa", "Lộc", "Phong", "Thịnh"]
GIVEN_FEMALE = ["Anh", "Châu", "Diễm", "Giang", "Hà", "Hạnh", "Hằng", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai",
                "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quyên", "Thảo", "Trang", "Tuyết", "Uyên", "Vy", "Yến", "Ánh"]
COMPANY_FORMS = ["Công ty TNHH Vận tải", "Công ty Cổ phần Xe khách", "Hợp tác xã Vận tải", "Công ty TNHH Xây dựng",
                 "Công ty Cổ phần Đầu tư và Xây dựng Giao thông", "Công ty TNHH Thương mại và Dịch vụ"]
COMPANY_NAMES = ["Thành Đạt", "Hoàng Long", "Minh Phát", "Sơn Tịnh", "Dung Quất", "Thiên Ấn", "Trà Khúc",
                 "Quảng Ngãi", "Đức Phổ", "Mỹ Khê", "Nghĩa Hành", "An Phú", "Tân Thành", "Vạn Tường", "Sa Huỳnh",
                 "Ba Làng An", "Thạch Bích", "Phú Quý", "Hưng Thịnh", "Đại Lộc"]
STREETS = ["Quang Trung", "Hùng Vương", "Phan Đình Phùng", "Lê Trung Đình", "Nguyễn Nghiêm", "Trần Hưng Đạo",
           "Phạm Văn Đồng", "Lê Lợi", "Nguyễn Công Phương", "Bà Triệu", "Trương Định", "Hai Bà Trưng",
           "Nguyễn Tự Tân", "Lê Thánh Tôn", "Chu Văn An", "Trường Chinh"]
VILLAGES = ["thôn An Phú", "thôn Phú Lộc", "thôn Tân Hòa", "thôn Đông Thành", "thôn Vạn Lý", "thôn Mỹ Hưng",
            "tổ dân phố 3", "tổ dân phố 5", "khu dân cư số 2"]
LOCALITIES = [
    ("phường Trần Phú", "thành phố Quảng Ngãi"), ("phường Nghĩa Chánh", "thành phố Quảng Ngãi"),
    ("phường Lê Hồng Phong", "thành phố Quảng Ngãi"), ("xã Tịnh Ấn Tây", "thành phố Quảng Ngãi"),
    ("thị trấn Châu Ổ", "huyện Bình Sơn"), ("xã Bình Long", "huyện Bình Sơn"), ("xã Bình Hải", "huyện Bình Sơn"),
    ("thị trấn La Hà", "huyện Tư Nghĩa"), ("xã Nghĩa Kỳ", "huyện Tư Nghĩa"), ("thị trấn Mộ Đức", "huyện Mộ Đức"),
    ("xã Đức Phong", "huyện Mộ Đức"), ("phường Phổ Thạnh", "thị xã Đức Phổ"), ("phường Nguyễn Nghiêm", "thị xã Đức Phổ"),
    ("thị trấn Chợ Chùa", "huyện Nghĩa Hành"), ("thị trấn Di Lăng", "huyện Sơn Hà"), ("thị trấn Ba Tơ", "huyện Ba Tơ"),
    ("xã An Vĩnh", "huyện Lý Sơn"), ("thị trấn Trà Xuân", "huyện Trà Bồng"), ("xã Tịnh Hà", "huyện Sơn Tịnh"),
    ("thị trấn Sơn Tịnh", "huyện Sơn Tịnh"), ("xã Hành Thiện", "huyện Nghĩa Hành"), ("thị trấn Minh Long", "huyện Minh Long"),
]
OUTSIDE = ["phường Hải Châu I, quận Hải Châu, thành phố Đà Nẵng", "phường Tân Thạnh, thành phố Tam Kỳ, tỉnh Quảng Nam",
           "phường Nguyễn Văn Cừ, thành phố Quy Nhơn, tỉnh Bình Định", "phường 12, quận Gò Vấp, Thành phố Hồ Chí Minh"]
PHONE_PREFIXES = ["032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079", "081",
                  "082", "083", "084", "085", "086", "088", "089", "090", "091", "093", "094", "096", "097", "098",
                  "052", "056", "058", "059", "0255"]


def strip_accents(text: str) -> str:
    """The text without Vietnamese diacritics ('Đã trả kết quả' → 'Da tra ket qua')."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def slugify(text: str) -> str:
    """A file-name slug ('Phòng Quản lý vận tải, …' → 'phong-quan-ly-van-tai-…')."""
    return re.sub(r"[^a-z0-9]+", "-", strip_accents(text).lower()).strip("-")


@dataclass(frozen=True)
class UnitInfo:
    """One unit of the department and how its export tool writes reports."""

    name: str
    slug: str
    layout: str  # "A" or "B" (different header synonyms and column order)
    nfd: bool  # text written in Unicode NFD
    preparer: str
    head: str


def load_catalogue(settings: Settings) -> pd.DataFrame:
    """The procedure catalogue (codes as text) with demo volume weights, lateness factors and applicant kind."""
    frame = pd.read_csv(settings.procedures_file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame[CATALOGUE_COLUMNS].drop_duplicates("procedure_code", keep="last").reset_index(drop=True)
    frame["limit_amount"] = pd.to_numeric(frame["limit_amount"], errors="coerce").fillna(5.0)
    frame["weight"] = frame["procedure_code"].map(PROCEDURE_VOLUME).fillna(0.3).astype(float)
    frame["proc_lateness"] = frame["procedure_code"].map(PROCEDURE_LATENESS).fillna(1.0).astype(float)
    frame["unit_lateness"] = frame["unit"].map(UNIT_LATENESS).fillna(1.0).astype(float)
    frame["business"] = frame["procedure_code"].isin(BUSINESS_PROCEDURES)
    return frame


def unit_infos(units: list[str]) -> dict[str, UnitInfo]:
    """Export habits of each unit (deterministic from the unit's name)."""
    infos = {}
    for i, unit in enumerate(sorted(units)):
        preparer, head = SIGNERS[i % len(SIGNERS)]
        infos[unit] = UnitInfo(unit, slugify(unit), "B" if unit in UNIT_LAYOUT_B else "A", unit in UNIT_NFD,
                               preparer, head)
    return infos


def fake_applicants(rng: np.random.Generator, business: np.ndarray, birth_years: tuple[int, int] = (1950, 2006)):
    """Fake applicant identities: names (persons or businesses), phones (0 + 9 digits), 12-digit CCCD, addresses."""
    n = len(business)
    female = rng.random(n) < 0.45
    family = np.array(FAMILY)[rng.choice(len(FAMILY), n, p=np.array(FAMILY_P) / sum(FAMILY_P))]
    middle = np.where(female, np.array(MIDDLE_FEMALE)[rng.integers(0, len(MIDDLE_FEMALE), n)],
                      np.array(MIDDLE_MALE)[rng.integers(0, len(MIDDLE_MALE), n)])
    given = np.where(female, np.array(GIVEN_FEMALE)[rng.integers(0, len(GIVEN_FEMALE), n)],
                     np.array(GIVEN_MALE)[rng.integers(0, len(GIVEN_MALE), n)])
    double_given = rng.random(n) < 0.25  # e.g. "Nguyễn Thị Thu Hà"
    extra = np.where(female, np.array(["Thu", "Ngọc", "Bảo", "Khánh"])[rng.integers(0, 4, n)],
                     np.array(["Anh", "Gia", "Bảo", "Hoàng"])[rng.integers(0, 4, n)])
    person = [f"{a} {b} {c} {d}" if dg else f"{a} {b} {d}"
              for a, b, c, d, dg in zip(family, middle, extra, given, double_given, strict=True)]
    is_company = business & (rng.random(n) < 0.7)
    company = [f"{COMPANY_FORMS[i]} {COMPANY_NAMES[j]}" for i, j in
               zip(rng.integers(0, len(COMPANY_FORMS), n), rng.integers(0, len(COMPANY_NAMES), n), strict=True)]
    names = np.where(is_company, np.array(company, dtype=object), np.array(person, dtype=object))

    prefixes = np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]
    suffix = rng.integers(0, 10_000_000, n)
    phones = [p + f"{s:07d}"[: 10 - len(p)] for p, s in zip(prefixes, suffix, strict=True)]

    years = rng.integers(birth_years[0], birth_years[1] + 1, n)
    century = np.where(years >= 2000, 2, 0) + female.astype(int)
    serial = rng.integers(0, 1_000_000, n)
    cccd = [f"051{c}{y % 100:02d}{s:06d}" for c, y, s in zip(century, years, serial, strict=True)]

    kind = rng.random(n)
    loc = rng.integers(0, len(LOCALITIES), n)
    house = rng.integers(1, 400, n)
    street = rng.integers(0, len(STREETS), n)
    village = rng.integers(0, len(VILLAGES), n)
    outside = rng.integers(0, len(OUTSIDE), n)
    addresses = []
    for k, li, h, s, v, o in zip(kind, loc, house, street, village, outside, strict=True):
        ward, district = LOCALITIES[li]
        if k < 0.05:
            addresses.append(f"Số {h} {STREETS[s]}, {OUTSIDE[o]}")
        elif ward.startswith("xã"):
            addresses.append(f"{VILLAGES[v]}, {ward}, {district}, tỉnh Quảng Ngãi")
        else:
            addresses.append(f"Số {h} {STREETS[s]}, {ward}, {district}, tỉnh Quảng Ngãi")
    return names, np.array(phones, dtype=object), np.array(cccd, dtype=object), np.array(addresses, dtype=object)
