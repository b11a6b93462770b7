"""Every reader-facing phrase of the reports, in Vietnamese and English, keyed by name.

Sections, the summary, trend sentences, labels and the index page take their words from
here (``phrase(key, lang, **values)``) and only supply the numbers, already formatted, for the
``{placeholders}``; no report module writes a sentence inline. A placeholder may carry a
format spec (``{peak_month:%m/%Y}``) when the two languages write a date differently.

Known pairs that still say one thing two ways (the 95% interval is now "khoảng tin cậy 95%"
everywhere in Vietnamese; the statistics behind a sentence go to its footnotes):

* "điểm %" / "pp" (``points_suffix``) vs "điểm %" / "points" (``trend_unit.points``);
* "Đơn vị cấp huyện" / "District" (``district``) vs "đơn vị cấp huyện" / "districts"
  (``funnel.who.district``) vs "Các đơn vị cấp huyện" / "Districts" (``index_page.districts``):
  one Vietnamese term, the administrative level's own name, wherever the units' types are
  not listed one by one (``sections.common.unit_kinds`` lists them where it can);
* "Toàn tỉnh" (``province``) and "Toàn {province_kind}" (``section.totals``): the first is
  unused by the reports;
* "Trực tuyến" / "Online" is both ``channel_online`` and ``count.received_online_count``;
* "Hài lòng trở lên" / "Satisfied or better" is ``count.satisfied_count`` and
  ``satisfaction.satisfied_column``; "Tỷ lệ" is ``share`` ("Share") and ``index.rate_column``
  ("Rate");
* "mục tiêu" / "target" (``target``) is also inside ``card.status``;
* the within-deadline rate is "the within-deadline rate" in the summary
  (``trend_subject.summary``) and "The within-deadline rate" in the timeliness section
  (``trend_subject.timeliness``), while Vietnamese uses the metric's own label in both;
* "99,8%" is written inside the funnel footnote (``funnel.note``) and the English
  ``funnel_band.*``.
"""

from __future__ import annotations

from typing import Any, Literal

from cchc_analysis.core import text

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")

PHRASES: dict[str, tuple[str, str]] = {
    # --- fixed labels (tables, headings, the console) -----------------------------------------
    "unit": ("Đơn vị", "Unit"),
    "unit_code": ("Mã", "Code"),
    "district": ("Đơn vị cấp huyện", "District"),
    "commune": ("Đơn vị cấp xã", "Commune"),
    "month": ("Tháng", "Month"),
    "period": ("Kỳ báo cáo", "Period"),
    "value": ("Giá trị", "Value"),
    "previous_period": ("So với kỳ trước", "vs previous period"),
    "year_before": ("So với cùng kỳ năm trước", "vs same period last year"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "rank": ("Thứ hạng", "Rank"),
    "province": ("Toàn tỉnh", "Province"),
    "field": ("Lĩnh vực", "Field"),
    "channel_in_person": ("Trực tiếp", "In person"),
    "channel_online": ("Trực tuyến", "Online"),
    "channel_postal": ("Bưu chính công ích", "Public post"),
    "dossiers": ("Số hồ sơ", "Dossiers"),
    "share": ("Tỷ lệ", "Share"),
    "no_data": ("Không có dữ liệu", "No data"),
    # --- missing data: an indicator without data says so, and why (never 0, never a badge) ---
    "no_data.value": ("Không có dữ liệu", "No data"),
    "no_data.with_reason": ("không có dữ liệu ({reason})", "no data ({reason})"),
    "no_data.reason.column": (
        "tệp xuất không có cột {columns}",
        "the export has no {columns} column",
    ),
    "no_data.reason.columns": (
        "tệp xuất không có các cột {columns}",
        "the export has no {columns} columns",
    ),
    "no_data.reason.no_ratings": (
        "không có lượt đánh giá nào: tệp xuất không có cột “Đánh giá”, hoặc chưa ai đánh giá",
        "no ratings: the export has no “rating” column, or nobody rated",
    ),
    "no_data.reason.no_fee_bearing": (
        "trong kỳ không có hồ sơ có phí, lệ phí",
        "no fee-bearing dossiers in the period",
    ),
    "no_data.reason.empty": ("không có hồ sơ nào để tính", "no dossiers to count"),
    "no_data.column_name": ("“{name}”", "“{name}”"),
    "no_data.and": (" và ", " and "),
    "no_data.indicator": ("{label}: không có dữ liệu ({reason}).", "{label}: no data ({reason})."),
    "indicator.value": ("{label}: {value}.", "{label}: {value}."),
    "counts.channel_coverage": (
        "Trực tuyến; trực tiếp, bưu chính: {note}.",
        "Online; in person or by post: {note}.",
    ),
    "no_data.coverage": (
        "tính trên {known}/{total} hồ sơ có thông tin ({share})",
        "over the {known} of {total} dossiers with this information ({share})",
    ),
    "export_column.channel": ("Kênh nộp", "channel"),
    "export_column.online_level": ("Mức độ", "online level"),
    "export_column.is_digitized": ("Số hóa", "digitised"),
    "export_column.is_fee_bearing": ("Có phí/lệ phí", "fee-bearing"),
    "export_column.is_paid_online": ("Thanh toán trực tuyến", "paid online"),
    "export_column.home_unit_code": ("Đơn vị phi địa giới / Xã phường địa bàn", "home unit"),
    "export_column.has_e_result": ("Kết quả điện tử", "electronic result"),
    "export_column.rating": ("Đánh giá", "rating"),
    "export_column.field": ("Lĩnh vực", "field"),
    "channel_unknown": ("Không rõ kênh", "Channel unknown"),
    "field_unknown": ("Không rõ lĩnh vực", "Field unknown"),
    "report_title": (
        "Báo cáo kết quả giải quyết thủ tục hành chính",
        "Administrative procedures report",
    ),
    "overview_title": ("Báo cáo tổng quan", "Province overview"),
    "index_title": ("Báo cáo cải cách hành chính", "Administrative reform reports"),
    "generated": ("Tạo lúc", "Generated"),
    "source": ("Nguồn dữ liệu", "Data source"),
    "contents": ("Mục lục", "Contents"),
    "target": ("mục tiêu", "target"),
    # --- labels of the form-06 counts (rates are labelled in core.metrics) --------------------
    "count.received_total_count": ("Tổng số hồ sơ tiếp nhận", "Dossiers received (total)"),
    "count.received_new_count": ("Tiếp nhận trong kỳ", "Received in period"),
    "count.carried_over_count": ("Từ kỳ trước chuyển sang", "Carried over"),
    "count.received_online_count": ("Trực tuyến", "Online"),
    "count.received_offline_count": ("Trực tiếp, dịch vụ bưu chính", "In person or by post"),
    "count.online_full_count": ("Trực tuyến toàn trình", "Fully online"),
    "count.online_partial_count": ("Trực tuyến một phần", "Partly online"),
    "count.resolved_total_count": ("Đã giải quyết", "Resolved"),
    "count.resolved_early_count": ("Trước hạn", "Early"),
    "count.resolved_on_time_count": ("Đúng hạn", "On the due date"),
    "count.resolved_late_count": ("Quá hạn", "Late"),
    "count.resolved_within_deadline_count": ("Trước hạn và đúng hạn", "Within deadline"),
    "count.pending_total_count": ("Đang giải quyết", "Pending"),
    "count.pending_in_time_count": ("Đang giải quyết trong hạn", "Pending, in time"),
    "count.pending_late_count": ("Đang giải quyết quá hạn", "Pending, overdue"),
    "count.withdrawn_count": ("Rút, từ chối", "Withdrawn or rejected"),
    "count.digitized_count": ("Hồ sơ được số hóa", "Digitised"),
    "count.fee_bearing_count": ("Có phí, lệ phí", "Fee-bearing"),
    "count.paid_online_count": ("Thanh toán trực tuyến", "Paid online"),
    "count.rated_count": ("Lượt đánh giá", "Ratings"),
    "count.satisfied_count": ("Hài lòng trở lên", "Satisfied or better"),
    "count.refused_count": ("Không được tiếp nhận", "Refused at intake"),
    "count.awaiting_intake_count": ("Mới đăng ký, chưa tiếp nhận", "Registered, not yet received"),
    "count.timely_766_count": ("Trong hạn theo QĐ 766", "Within the 766 deadline"),
    "count.out_of_area_count": ("Của người dân ngoài địa bàn", "From outside the area"),
    "count.waiting_late_766_count": (
        "Chờ bổ sung, quá hạn theo QĐ 766",
        "Waiting for a supplement, late under 766",
    ),
    # --- numbers and periods ------------------------------------------------------------------
    "points_suffix": ("điểm %", "pp"),
    "period.quarter": ("Quý {roman}/{year}", "Q{quarter} {year}"),
    "period.first_half": ("6 tháng đầu năm {year}", "First half of {year}"),
    "period.second_half": ("6 tháng cuối năm {year}", "Second half of {year}"),
    "period.month": ("Tháng {month}/{year}", "{month_name}"),
    "period.year": ("Năm {year}", "Year {year}"),
    "period.convention.cutoff15": (
        "quy ước chốt số liệu ngày 14",
        "data cut-off on the 14th",
    ),
    # --- section headings (anchor after the dot) ----------------------------------------------
    "section.summary": ("Tóm tắt", "Summary"),
    "section.scorecard": ("Chỉ số chính", "Key indicators"),
    "section.counts": ("Số liệu theo Biểu 06", "Counts as in form 06"),
    "section.volumes": ("Khối lượng hồ sơ", "Dossier volumes"),
    "section.timeliness": ("Tiến độ giải quyết", "Timeliness"),
    "section.processing-time": ("Thời gian giải quyết", "Processing time"),
    "section.online": ("Dịch vụ công trực tuyến", "Online services"),
    "section.satisfaction": ("Mức độ hài lòng", "Satisfaction"),
    "section.communes": ("Các đơn vị cấp xã", "Communes"),
    "section.position": ("Vị trí trong {province_kind}", "Position in the province"),
    "section.index": ("Ước tính Bộ chỉ số (QĐ 766)", "Service index estimate (Decision 766)"),
    "section.method": ("Phương pháp và nguồn dữ liệu", "Method and data"),
    "section.totals": ("Toàn {province_kind}", "Province totals"),
    "section.league": ("Bảng xếp hạng các đơn vị cấp huyện", "District league table"),
    "section.comparison": ("So sánh các đơn vị cấp huyện", "District comparison"),
    "section.trends": ("Xu hướng theo tháng", "Monthly trends"),
    # --- title: whose dossiers count ----------------------------------------------------------
    "tier.both": ("cơ quan cấp huyện và các xã, thị trấn", "district offices and communes"),
    "tier.district": ("các cơ quan cấp huyện", "district offices only"),
    "tier.commune": ("các xã, thị trấn", "communes only"),
    "tier.both.of": ("cơ quan cấp huyện và {communes}", "district offices and {communes}"),
    "tier.commune.of": ("{communes}", "{communes} only"),
    # --- KPI cards and shared table columns ---------------------------------------------------
    "card.status": ("{status} (mục tiêu {target})", "{status} (target {target})"),
    "card.ci": ("Khoảng tin cậy 95%: {interval}", "95% CI: {interval}"),
    "card.change": ("{comparison}: {change}", "{comparison}: {change}"),
    "column.ci_95": ("Khoảng tin cậy 95%", "95% CI"),
    "footnote.heading": ("Ghi chú thống kê", "Statistical notes"),
    # --- volumes ------------------------------------------------------------------------------
    "volumes.sentence": (
        "Trong kỳ, đơn vị tiếp nhận mới {received} hồ sơ, cộng {carried_over} hồ sơ từ kỳ "
        "trước chuyển sang.",
        "In the period the unit received {received} new dossiers, plus {carried_over} "
        "carried over.",
    ),
    # Dossiers filed regardless of administrative boundaries (out_of_area_count): {kind} is the
    # receiving unit's type word; ".summed" for units whose figures add up several receivers.
    "volumes.out_of_area": (
        "Trong đó {count} hồ sơ ({share}) của người dân ngoài địa bàn {kind} (tiếp nhận không "
        "phụ thuộc địa giới hành chính).",
        "Of these, {count} dossiers ({share}) came from residents outside the {kind} (received "
        "regardless of administrative boundaries).",
    ),
    "volumes.out_of_area.summed": (
        "Trong đó {count} hồ sơ ({share}) của người dân ngoài địa bàn đơn vị tiếp nhận (tiếp "
        "nhận không phụ thuộc địa giới hành chính).",
        "Of these, {count} dossiers ({share}) came from residents outside the area of the unit "
        "that received them (received regardless of administrative boundaries).",
    ),
    "volumes.out_of_area.no_data": (
        "Hồ sơ của người dân ngoài địa bàn (tiếp nhận không phụ thuộc địa giới hành chính): "
        "{no_data}.",
        "Dossiers from residents outside the area (received regardless of administrative "
        "boundaries): {no_data}.",
    ),
    "volumes.chart_title": (
        "Hồ sơ tiếp nhận mới theo tháng và kênh",
        "New dossiers by month and channel",
    ),
    "volumes.alt": (
        "Biểu đồ cột chồng số hồ sơ tiếp nhận mới mỗi tháng theo kênh, {months} tháng; cao "
        "nhất {peak} hồ sơ vào tháng {peak_month:%m/%Y}.",
        "Stacked bar chart of new dossiers per month by channel over {months} months; the "
        "highest is {peak} in {peak_month:%b %Y}.",
    ),
    # --- timeliness ---------------------------------------------------------------------------
    "timeliness.sentence": (
        "Đã giải quyết {resolved} hồ sơ, trong đó {within} trước hạn hoặc đúng hạn ({rate}) và "
        "{late} quá hạn; {pending} hồ sơ đang giải quyết cuối kỳ, {pending_late} đã quá hạn.",
        "{resolved} dossiers were resolved, {within} early or on time ({rate}) and {late} "
        "late; {pending} were pending at the end of the period, {pending_late} of them overdue.",
    ),
    "timeliness.interval_note": (
        "Khoảng tin cậy 95% của tỷ lệ đúng hạn (phương pháp Wilson): {interval}.",
        "95% CI of the within-deadline rate (Wilson): {interval}.",
    ),
    "timeliness.chart_title": (
        "Tỷ lệ giải quyết đúng hạn theo tháng (dải: khoảng tin cậy 95%)",
        "Within-deadline rate by month (band: 95% CI)",
    ),
    "timeliness.alt": (
        "Biểu đồ đường tỷ lệ giải quyết đúng hạn (có dải khoảng tin cậy 95%) và tiến độ theo "
        "QĐ 766 mỗi tháng; tháng thấp nhất {lowest}.",
        "Line chart of the monthly within-deadline rate with its 95% band, and the Decision "
        "766 progress rate; lowest month {lowest}.",
    ),
    # The subject of a trend sentence: Vietnamese uses the metric's label as given.
    "trend_subject.timeliness": ("{label}", "The within-deadline rate"),
    "trend_subject.online": ("{label}", "The online rate"),
    "trend_subject.summary": ("{label}", "the within-deadline rate"),
    # --- processing time ----------------------------------------------------------------------
    "processing.deadline_column": ("Thời hạn (ngày LV)", "Deadline (working days)"),
    "processing.median_column": (
        "50% hồ sơ xong trong (khoảng tin cậy 95%)",
        "Median (95% CI)",
    ),
    "processing.p90_column": (
        "90% hồ sơ xong trong (khoảng tin cậy 95%)",
        "90th percentile (95% CI)",
    ),
    "processing.chart_title": (
        "Tỷ lệ hồ sơ đã giải quyết theo số ngày làm việc",
        "Share of dossiers finished by working day",
    ),
    "processing.x_label": ("Ngày làm việc kể từ khi tiếp nhận", "Working days since receipt"),
    "processing.alt": (
        "Biểu đồ đường tỷ lệ hồ sơ đã giải quyết theo số ngày làm việc cho {fields} lĩnh "
        "vực, đường chấm là thời hạn giải quyết của từng lĩnh vực.",
        "Kaplan–Meier curves of the share finished by working day for {fields} fields; dotted "
        "lines mark each field's statutory deadline.",
    ),
    "processing.note": (
        "Hồ sơ tiếp nhận trong kỳ; hồ sơ chưa xong đến cuối kỳ vẫn được tính (chưa biết ngày "
        "xong, không bỏ đi). Thời hạn là trung vị số ngày làm việc từ tiếp nhận đến ngày hẹn "
        "trả.",
        "Dossiers received in the period; those unfinished at its end are censored, not "
        "dropped. The deadline is the median of working days from receipt to due date.",
    ),
    # --- online -------------------------------------------------------------------------------
    "online.sentence": (
        "{online} hồ sơ nộp trực tuyến ({online_rate} tổng số tiếp nhận; {online_new_rate} hồ "
        "sơ mới trong kỳ), trong đó {full} toàn trình và {partial} một phần. Tỷ lệ số hóa "
        "{digitization_rate}; thanh toán trực tuyến {payment_rate} hồ sơ có phí.",
        "{online} dossiers were filed online ({online_rate} of all received; {online_new_rate} "
        "of new ones): {full} fully and {partial} partly online. Digitisation "
        "{digitization_rate}; online payment {payment_rate} of fee-bearing dossiers.",
    ),
    "online.chart_title": (
        "Trực tuyến, số hóa và thanh toán trực tuyến",
        "Online, digitised, paid online",
    ),
    "online.alt": (
        "Biểu đồ đường tỷ lệ hồ sơ trực tuyến, số hóa và thanh toán trực tuyến mỗi tháng; tỷ "
        "lệ trực tuyến từ {first} lên {last}.",
        "Line chart of monthly online, digitisation and online-payment rates; the online rate "
        "went from {first} to {last}.",
    ),
    "online.alt_without_channel": (
        "Biểu đồ đường các tỷ lệ có dữ liệu mỗi tháng; {label} từ {first} đến {last}.",
        "Line chart of the monthly rates that have data; {label} went from {first} to {last}.",
    ),
    # --- satisfaction -------------------------------------------------------------------------
    "satisfaction.portal": (
        "Đánh giá trên cổng dịch vụ công: {rated} lượt, {rate} hài lòng trở lên (khoảng tin "
        "cậy 95%: {interval}).",
        "Portal ratings: {rated}, {rate} satisfied or better (95% CI {interval}).",
    ),
    "satisfaction.window_period": (
        "Khảo sát người dân trong kỳ: {respondents} người trả lời.",
        "Citizen survey in the period: {respondents} respondents.",
    ),
    "satisfaction.window_12_months": (
        "Trong kỳ có dưới 30 phiếu khảo sát nên dùng 12 tháng đến hết kỳ: {respondents} người "
        "trả lời.",
        "Fewer than 30 survey answers in the period, so the 12 months to its end are used: "
        "{respondents} respondents.",
    ),
    "satisfaction.no_survey": (
        "Khảo sát người dân: không có dữ liệu (không có phiếu khảo sát nào của đơn vị trong 12 "
        "tháng đến hết kỳ).",
        "Citizen survey: no data (no survey answers for the unit in the 12 months to the end of "
        "the period).",
    ),
    "satisfaction.aspect_column": ("Khía cạnh", "Aspect"),
    "satisfaction.answers_column": ("Số câu trả lời", "Answers"),
    "satisfaction.satisfied_column": ("Hài lòng trở lên", "Satisfied or better"),
    "satisfaction.kruskal_note": (
        "So sánh giữa các đơn vị: kiểm định Kruskal–Wallis, {p}.",
        "Comparison across units: Kruskal–Wallis test, {p}.",
    ),
    "satisfaction.alpha_note": (
        "Độ nhất quán của câu trả lời trong mỗi khía cạnh (hệ số Cronbach α): {items}.",
        "Internal consistency of each aspect's answers (Cronbach's α): {items}.",
    ),
    "satisfaction.chart_title": (
        "Phân bố mức độ hài lòng theo khía cạnh (khảo sát)",
        "Satisfaction by aspect (survey), diverging",
    ),
    "satisfaction.alt": (
        "Biểu đồ thanh phân bố 5 mức hài lòng cho 5 khía cạnh khảo sát; phần bên phải "
        "trục là hài lòng, bên trái là không hài lòng.",
        "Diverging bar chart of the five answer levels for five survey aspects; satisfied "
        "answers to the right of the axis, dissatisfied to the left.",
    ),
    "satisfaction.kruskal_significant": (
        "Trong 12 tháng, điểm hài lòng trung bình của {groups} đơn vị khác nhau rõ rệt.",
        "Over 12 months, mean satisfaction scores of the province's {groups} units differ clearly.",
    ),
    "satisfaction.kruskal_not_significant": (
        "Trong 12 tháng, điểm hài lòng trung bình của {groups} đơn vị chưa khác nhau rõ rệt.",
        "Over 12 months, mean satisfaction scores of the province's {groups} units do not "
        "differ clearly.",
    ),
    "aspect.access": ("Tiếp cận dịch vụ", "Access to the service"),
    "aspect.procedure": ("Thủ tục hành chính", "The procedure"),
    "aspect.staff": ("Công chức giải quyết", "Civil servants"),
    "aspect.result": ("Kết quả giải quyết", "The result"),
    "aspect.feedback": ("Tiếp nhận, xử lý góp ý", "Handling of feedback"),
    "likert.1": ("Rất không hài lòng", "Very dissatisfied"),
    "likert.2": ("Không hài lòng", "Dissatisfied"),
    "likert.3": ("Bình thường", "Neutral"),
    "likert.4": ("Hài lòng", "Satisfied"),
    "likert.5": ("Rất hài lòng", "Very satisfied"),
    # --- position in the province -------------------------------------------------------------
    "position.rank": ("{label}: hạng {rank}/{units}.", "{label}: rank {rank} of {units}."),
    "position.chart_title": (
        "Tỷ lệ giải quyết đúng hạn các đơn vị cấp huyện",
        "Within-deadline rate, districts",
    ),
    "position.alt": (
        "Biểu đồ thanh xếp hạng {units} đơn vị cấp huyện theo tỷ lệ đúng hạn, {unit} được tô đậm.",
        "Bar chart ranking {units} districts by within-deadline rate, with {unit} highlighted.",
    ),
    # --- funnel plots -------------------------------------------------------------------------
    "funnel.who.commune": ("xã, phường, đặc khu", "communes"),
    "funnel.who.district": ("đơn vị cấp huyện", "districts"),
    "funnel.chart_title": (
        "Tỷ lệ quá hạn của các {who} so với mức chung",
        "Funnel plot of late rates, {who}",
    ),
    "funnel.x_label": (
        "Số hồ sơ đã giải quyết (trục chia theo bậc 10)",
        "Dossiers resolved (log scale)",
    ),
    "funnel.legend_998": (
        "Ngoài đường này: khác rõ rệt so với mức chung",
        "Beyond this line: clearly different from the common level",
    ),
    "funnel.legend_95": ("Trong đường này: dao động thường gặp", "Within this line: usual range"),
    "funnel.legend_target": ("Mức chung {target}", "Common level {target}"),
    "funnel.high": (
        "Tỷ lệ quá hạn cao hơn rõ rệt so với mức chung: {units}.",
        "Unusually high late rate (outside the 99.8% limits): {units}.",
    ),
    "funnel.low": (
        "Tỷ lệ quá hạn thấp hơn rõ rệt so với mức chung (kết quả tốt): {units}.",
        "Late rate clearly below the common level (a good result): {units}.",
    ),
    "funnel.note": (
        "“Rõ rệt”: nằm ngoài giới hạn 99,8% của biểu đồ phễu quanh tỷ lệ chung; “dao động "
        "thường gặp”: trong giới hạn 95%.",
        "“Clearly”: outside the 99.8% limits of the funnel plot around the common rate; "
        "“usual range”: within the 95% limits.",
    ),
    "funnel.none_outside": (
        "Không {who} nào có tỷ lệ quá hạn khác rõ rệt so với mức chung.",
        "No {who} lie outside the 99.8% limits.",
    ),
    "funnel.homogeneity": (
        "Kiểm định khi bình phương về tính đồng nhất: {p}.",
        "Chi-square test of homogeneity: {p}.",
    ),
    "funnel.homogeneity_sparse": (
        "Kiểm định khi bình phương về tính đồng nhất: {p} (tần số kỳ vọng nhỏ, cần thận trọng).",
        "Chi-square test of homogeneity: {p} (small expected counts: read with care).",
    ),
    "funnel.overdispersed": (
        "Các đơn vị dao động nhiều hơn mức ngẫu nhiên (hệ số phân tán {phi}), nên giới hạn phễu "
        "có thể quá hẹp.",
        "Units vary more than chance allows (dispersion factor {phi}), so the funnel limits "
        "may be too narrow.",
    ),
    "funnel.alt": (
        "Biểu đồ phễu: tỷ lệ quá hạn của {units} {who} theo số hồ sơ đã giải quyết, với vùng "
        "dao động thường gặp và ngưỡng khác biệt rõ rệt quanh mức chung {target}.",
        "Funnel plot: late rate of {units} {who} against dossiers resolved, with 95% and 99.8% "
        "control limits around the pooled rate {target}.",
    ),
    # --- the service index estimate -----------------------------------------------------------
    "index.component_column": ("Thành phần", "Component"),
    "index.rate_column": ("Tỷ lệ", "Rate"),
    "index.threshold_column": ("Ngưỡng đủ điểm", "Full-score threshold"),
    "index.points_column": ("Điểm", "Points"),
    "index.points_of": ("{points} / {max_points}", "{points} / {max_points}"),
    "index.headline": (
        "ƯỚC TÍNH: {points}/{max_points} điểm tính được từ dữ liệu hồ sơ, quy đổi {score_100}"
        "/100 — xếp loại {band}, hạng {rank}/{units} đơn vị cùng cấp. Không phải điểm chính "
        "thức.",
        "ESTIMATE: {points}/{max_points} points computable from dossier data, rescaled "
        "{score_100}/100 — band {band}, rank {rank} of {units} in the province. Not the "
        "official score.",
    ),
    "index.excluded": (
        "Nhóm công khai, minh bạch (18 điểm) không tính được từ dữ liệu hồ sơ nên không có "
        "trong ước tính.",
        "The publicity and transparency group (18 points) cannot be computed from dossier "
        "data and is left out.",
    ),
    "index.missing": (
        "Chưa tính, vì không có dữ liệu: {components}. Ước tính trên {max_points} điểm của các "
        "tiêu chí có dữ liệu.",
        "Not scored, for want of data: {components}. The estimate is over the {max_points} "
        "points of the criteria with data.",
    ),
    "index.missing_item": ("{component} ({reason})", "{component} ({reason})"),
    "index.no_estimate": (
        "ƯỚC TÍNH: không có dữ liệu cho tiêu chí nào của bộ chỉ số trong kỳ.",
        "ESTIMATE: no data for any criterion of the index in the period.",
    ),
    "index.province_missing": (
        "Đơn vị thiếu dữ liệu, ước tính trên các tiêu chí còn lại (cột Ước tính ghi tổng điểm "
        "của các tiêu chí đó): {units}.",
        "Units lacking data, estimated over the remaining criteria (the Estimate column gives "
        "their total): {units}.",
    ),
    "index.estimate_column": ("Ước tính /82", "Estimate /82"),
    "index.rescaled_column": ("Quy đổi /100", "Rescaled /100"),
    "index.band_column": ("Xếp loại", "Band"),
    "index.province_note": (
        "ƯỚC TÍNH theo cách tính của QĐ 766/QĐ-TTg cho 5 nhóm tính được từ dữ liệu hồ sơ "
        "(82/100 điểm); không phải điểm chính thức. Xem phần Phương pháp.",
        "ESTIMATE in the manner of Decision 766/QĐ-TTg for the 5 groups computable from "
        "dossier data (82 of 100 points); not the official score. See Method.",
    ),
    # --- provenance (method section) ----------------------------------------------------------
    "method.source": ("Dữ liệu: {source}", "Data: {source}"),
    "method.source_demo": (
        "dữ liệu mô phỏng, không phải số liệu chính thức",
        "simulated data, not official figures",
    ),
    "method.source_exports": (
        "dữ liệu xuất từ hệ thống thông tin giải quyết thủ tục hành chính",
        "exports of the one-stop information system",
    ),
    "method.folder_period": (". Kỳ: {dates}", ". Period: {dates}"),
    "method.generated": (
        ". Tạo bởi cchc-workbook {version} lúc {generated:%d/%m/%Y %H:%M}.",
        ". Generated by cchc-workbook {version} at {generated:%Y-%m-%d %H:%M}.",
    ),
    "method.input_hash": (" Mã băm dữ liệu đầu vào: {input_hash}.", " Input hash: {input_hash}."),
    # --- province overview --------------------------------------------------------------------
    "province.ranking_alt": (
        "Biểu đồ thanh {title} của {units} đơn vị cấp huyện; cao nhất {best} {best_rate}, "
        "thấp nhất {worst} {worst_rate}.",
        "Bar chart of {title} for {units} districts; highest {best} {best_rate}, lowest "
        "{worst} {worst_rate}.",
    ),
    "province.trends_chart_title": (
        "Tỷ lệ đúng hạn theo tháng, từng đơn vị cấp huyện",
        "Monthly within-deadline rate",
    ),
    "province.trends_alt": (
        "{units} biểu đồ nhỏ tỷ lệ giải quyết đúng hạn theo tháng của từng đơn vị cấp huyện.",
        "{units} small line charts of each district's monthly within-deadline rate.",
    ),
    "province.no_notable_trend": (
        "Không đơn vị cấp huyện nào có tỷ lệ đúng hạn tăng hay giảm rõ rệt qua các tháng.",
        "No district's within-deadline rate rose or fell clearly over the months.",
    ),
    "province.trend_down": (
        "Tỷ lệ đúng hạn giảm rõ rệt qua các tháng ở: {units}.",
        "The within-deadline rate fell clearly over the months in: {units}.",
    ),
    "province.trend_up": (
        "Tỷ lệ đúng hạn tăng rõ rệt qua các tháng ở: {units}.",
        "The within-deadline rate rose clearly over the months in: {units}.",
    ),
    "province.trend_item": (
        "{unit} (khoảng {amount} điểm % mỗi tháng)",
        "{unit} (about {amount} points a month)",
    ),
    "province.trend_note": (
        "“Rõ rệt”: kiểm định Mann–Kendall có ý nghĩa thống kê ở mức {level} và độ dốc "
        "Theil–Sen từ {least} điểm % mỗi tháng trở lên.",
        "“Clearly”: a Mann–Kendall test significant at {level} and a Theil–Sen slope of at "
        "least {least} points a month.",
    ),
    "province.trend_unit_note": (
        "{unit}: tau {tau}; {p}; độ dốc mỗi tháng từ {low} đến {high} điểm % (khoảng tin cậy 95%).",
        "{unit}: tau {tau}; {p}; monthly slope {low} to {high} points (95% CI).",
    ),
    "funnel.unit_note": (
        "{unit}: {late}/{resolved} hồ sơ giải quyết quá hạn ({rate}); với số hồ sơ này, giới "
        "hạn 99,8% là {limits}.",
        "{unit}: {late} of {resolved} resolved dossiers late ({rate}); 99.8% limits at this "
        "size: {limits}.",
    ),
    # --- the summary at the top of a district report ------------------------------------------
    "summary.about_same": ("gần như không đổi", "about the same"),
    "summary.change_up": ("tăng {change}", "up {change}"),
    "summary.change_down": ("giảm {change}", "down {change}"),
    "summary.volume": (
        "{period}, {unit} tiếp nhận {received} hồ sơ.",
        "In {period}, {unit} handled {received} dossiers.",
    ),
    "summary.volume_change": (
        "{period}, {unit} tiếp nhận {received} hồ sơ ({change} so với cùng kỳ năm trước).",
        "In {period}, {unit} handled {received} dossiers ({change} on the same period last year).",
    ),
    "summary.timeliness": (
        "{rate} hồ sơ đã giải quyết trước hạn hoặc đúng hạn; {late} hồ sơ quá hạn.",
        "{rate} of resolved dossiers were early or on time; {late} were late.",
    ),
    "summary.timeliness_target": (
        "{rate} hồ sơ đã giải quyết trước hạn hoặc đúng hạn, {status} {target}; {late} hồ sơ "
        "quá hạn.",
        "{rate} of resolved dossiers were early or on time ({status}: {target}); {late} were late.",
    ),
    "summary.online": (
        "Tỷ lệ hồ sơ trực tuyến đạt {rate}, trong đó {full} hồ sơ trực tuyến toàn trình.",
        "{rate} of dossiers came in online, {full} of them fully online.",
    ),
    "summary.missed_item": ("{label} ({rate})", "{label} ({rate})"),
    "summary.units_met": (
        "{met}/{units} đơn vị đạt mục tiêu tỷ lệ đúng hạn ({target}); thấp nhất là {worst} "
        "({rate}).",
        "{met} of {units} units meet the within-deadline target ({target}); the lowest is "
        "{worst} ({rate}).",
    ),
    "summary.online_only": (
        "Tỷ lệ hồ sơ trực tuyến đạt {rate}.",
        "{rate} of dossiers came in online.",
    ),
    "summary.no_data": ("Không có dữ liệu: {names}.", "No data: {names}."),
    "summary.missed": ("Chưa đạt mục tiêu: {names}.", "Below target: {names}."),
    "summary.all_met": (
        "Các chỉ tiêu theo dõi đều đạt hoặc gần đạt mục tiêu.",
        "Every tracked indicator met or came close to its target.",
    ),
    "summary.rank": (
        "xếp thứ {rank}/{units} trong các đơn vị cấp huyện về tỷ lệ đúng hạn",
        "ranks {rank} of {units} districts on the within-deadline rate",
    ),
    "summary.funnel": ("tỷ lệ quá hạn {words}", "its late rate is {words}"),
    "summary.position": ("Đơn vị {parts}.", "The district {parts}."),
    "funnel_band.above_998": (
        "cao hơn rõ rệt so với mức chung",
        "well above the province's level (outside the 99.8% limits)",
    ),
    "funnel_band.above_95": (
        "cao hơn mức chung, nhưng chưa rõ rệt",
        "above the province's level (outside the 95% limits)",
    ),
    "funnel_band.within": (
        "trong phạm vi dao động thường gặp quanh mức chung",
        "within the normal range around the province's level",
    ),
    "funnel_band.below_95": (
        "thấp hơn mức chung, nhưng chưa rõ rệt",
        "below the province's level (outside the 95% limits)",
    ),
    "funnel_band.below_998": (
        "thấp hơn rõ rệt so với mức chung",
        "well below the province's level (outside the 99.8% limits)",
    ),
    # --- trend sentences (reports.trend_sentence) ---------------------------------------------
    "trend.too_few": (
        "{subject} chưa đủ số liệu để đánh giá xu hướng ({n} kỳ).",
        "{subject} has too few data points to judge a trend ({n} periods).",
    ),
    "trend.not_significant": (
        "{subject} ổn định qua các tháng, không tăng hay giảm rõ rệt.",
        "{subject} was stable over the months, with no clear rise or fall.",
    ),
    "trend.note": (
        "Xu hướng: kiểm định Mann–Kendall, tau {tau}; {p}; “rõ rệt” là có ý nghĩa thống kê ở "
        "mức {level}.",
        "Trend: Mann–Kendall test, tau {tau}; {p}; “clear” means significant at {level}.",
    ),
    "trend.up": (
        "{subject} tăng rõ rệt, khoảng {amount} {unit} {per}.",
        "{subject} rose clearly, by about {amount} {unit} {per}.",
    ),
    "trend.down": (
        "{subject} giảm rõ rệt, khoảng {amount} {unit} {per}.",
        "{subject} fell clearly, by about {amount} {unit} {per}.",
    ),
    "trend.less_than": ("dưới {amount}", "less than {amount}"),
    "trend_unit.points": ("điểm %", "points"),
    "trend_unit.days": ("ngày", "days"),
    "trend_unit.dossiers": ("hồ sơ", "dossiers"),
    "per.month": ("mỗi tháng", "a month"),
    "per.quarter": ("mỗi quý", "a quarter"),
    "per.year": ("mỗi năm", "a year"),
    "per.step": ("mỗi kỳ", "a period"),
    # --- the index page of a run --------------------------------------------------------------
    "index_page.failed": ("lỗi", "failed"),
    "index_page.workbook": (
        "Tải bảng chỉ số của mọi đơn vị (XLSX)",
        "Download every unit's indicators (XLSX)",
    ),
    "index_page.districts": ("Các đơn vị cấp huyện", "Districts"),
    "index_page.sort_hint": ("Bấm vào tiêu đề cột để sắp xếp.", "Click a column heading to sort."),
    # --- reports on the units of the 2025 reform: the same phrases said of communes -----------
    "section.league.commune": (
        "Bảng xếp hạng các xã, phường, đặc khu",
        "Commune and ward league table",
    ),
    "section.comparison.commune": (
        "So sánh các xã, phường, đặc khu",
        "Communes and wards compared",
    ),
    "position.chart_title.commune": (
        "Tỷ lệ giải quyết đúng hạn các xã, phường, đặc khu",
        "Within-deadline rate, communes and wards",
    ),
    "position.alt.commune": (
        "Biểu đồ thanh xếp hạng {units} xã, phường, đặc khu theo tỷ lệ đúng hạn, {unit} được tô "
        "đậm.",
        "Bar chart ranking {units} communes and wards by within-deadline rate, with {unit} "
        "highlighted.",
    ),
    "province.ranking_alt.commune": (
        "Biểu đồ thanh {title} của {units} xã, phường, đặc khu; cao nhất {best} {best_rate}, "
        "thấp nhất {worst} {worst_rate}.",
        "Bar chart of {title} for {units} communes and wards; highest {best} {best_rate}, lowest "
        "{worst} {worst_rate}.",
    ),
    "province.trends_chart_title.commune": (
        "Tỷ lệ đúng hạn theo tháng, từng xã, phường, đặc khu",
        "Monthly within-deadline rate",
    ),
    "province.trends_alt.commune": (
        "{units} biểu đồ nhỏ tỷ lệ giải quyết đúng hạn theo tháng của từng xã, phường, đặc khu.",
        "{units} small line charts of each commune's and ward's monthly within-deadline rate.",
    ),
    "province.no_notable_trend.commune": (
        "Không xã, phường, đặc khu nào có tỷ lệ đúng hạn tăng hay giảm rõ rệt qua các tháng.",
        "No commune's or ward's within-deadline rate rose or fell clearly over the months.",
    ),
    "summary.rank.commune": (
        "xếp thứ {rank}/{units} xã, phường, đặc khu về tỷ lệ đúng hạn",
        "ranks {rank} of {units} communes and wards of the province on the within-deadline rate",
    ),
    "summary.position.commune": ("{kind_title} {parts}.", "The {kind} {parts}."),
    "index_page.districts.commune": ("Các xã, phường, đặc khu", "Communes and wards"),
    "index_page.districts.former": ("Địa bàn các huyện cũ", "Former districts' areas"),
    "unit_kind.xa": ("xã", "commune"),
    "unit_kind.phuong": ("phường", "ward"),
    "unit_kind.dac-khu": ("đặc khu", "special zone"),
    "title.commune_scope": (
        "Báo cáo cấp xã: hồ sơ do {kind} tiếp nhận (kể cả hồ sơ của các xã, phường, thị trấn cũ "
        "hợp thành {kind}, theo bảng chuyển đổi), so sánh với {peers} xã, phường, đặc khu của "
        "{province}.",
        "Commune-level report: the dossiers the {kind} received (with those of the old communes "
        "merged into it, through the conversion table), compared with the {peers} communes and "
        "wards of {province}.",
    ),
    "title.former_district": (
        "Địa bàn huyện cũ: số liệu là tổng của hồ sơ do huyện và các đơn vị cấp xã cũ tiếp nhận "
        "trước ngày 1/7/2025 và của {communes} xã, phường mới trên địa bàn từ ngày đó; cấp "
        "huyện không còn là một cấp hành chính.",
        "Area of a former district: the figures sum the dossiers received by the district and "
        "its old communes before 1 July 2025 and by the {communes} new communes within it since; "
        "the district is no longer an administrative level.",
    ),
    "title.former_districts": (
        "Địa bàn các huyện cũ: mỗi dòng là tổng của hồ sơ do huyện và các đơn vị cấp xã cũ tiếp "
        "nhận trước ngày 1/7/2025 và của các xã, phường mới trên địa bàn từ ngày đó.",
        "Areas of former districts: each row sums the dossiers received by the district and its "
        "old communes before 1 July 2025 and by the new communes within it since.",
    ),
    "title.no_history": (
        "Dữ liệu của đơn vị bắt đầu sau ngày đầu kỳ nên chưa biết số hồ sơ từ kỳ trước chuyển "
        "sang (đang ghi là 0).",
        "This unit's data starts after the period begins, so the dossiers carried over from the "
        "previous period are unknown (shown as 0).",
    ),
    "title.no_history_units": (
        "Dữ liệu của {count} đơn vị bắt đầu sau ngày đầu kỳ nên chưa biết số hồ sơ từ kỳ trước "
        "chuyển sang của các đơn vị này (đang ghi là 0).",
        "The data of {count} unit(s) starts after the period begins, so their dossiers carried "
        "over from the previous period are unknown (shown as 0).",
    ),
    "title.data_as_of": ("Số liệu tính đến ngày {day}", "Figures as of {day}"),
    "title.approximate": (
        "Số liệu gần đúng: có xã cũ bị chia cho nhiều đơn vị mới, hoặc đơn vị mới gồm xã cũ của "
        "nhiều huyện.",
        "Approximate figures: an old commune was divided among new units, or a new unit took in "
        "old communes of several districts.",
    ),
    "province.offices_heading": (
        "Cơ quan cấp tỉnh (các sở, ban, ngành và Trung tâm Phục vụ hành chính công)",
        "The province's own offices (departments and public-service centre)",
    ),
    "province.offices_row": ("Cơ quan cấp tỉnh", "Provincial offices"),
    # --- "Cần chỉ đạo": what a leader should act on (sections/attention.py) -------------------
    "section.attention": ("Cần chỉ đạo", "Needs action"),
    "chart.axis_start": ("trục bắt đầu từ {start}", "axis starts at {start}"),
    "chart.target": ("mục tiêu {target}", "target {target}"),
    "scoreboard.status": ("Mục tiêu tỷ lệ đúng hạn", "Within-deadline target"),
    "nav.overview": ("Tổng quan toàn {province_kind}", "Province overview"),
    "nav.index": ("Danh sách báo cáo", "All reports"),
    "nav.sheet": ("Phiếu tóm tắt (một trang, để in)", "One-page summary (for printing)"),
    "nav.whole_report": ("Xem toàn bộ báo cáo", "Whole report"),
    "demo.banner": (
        "DỮ LIỆU MÔ PHỎNG — không phải số liệu chính thức",
        "SIMULATED DATA — not official figures",
    ),
    "print.page": ("Trang", "Page"),
    "attention.missed": (
        "Chỉ tiêu chưa đạt: {items}.",
        "Targets missed: {items}.",
    ),
    "attention.missed_item": (
        "{label} {rate} (mục tiêu {target})",
        "{label} {rate} (target {target})",
    ),
    "attention.all_met": (
        "{who} đạt mọi chỉ tiêu có mục tiêu.",
        "{who} met the target of every indicator that has one.",
    ),
    "attention.who.unit": ("Đơn vị", "The unit"),
    "attention.who.province": ("Toàn {province_kind}", "The province as a whole"),
    "attention.late": (
        "{late} hồ sơ giải quyết quá hạn trong kỳ; {pending_late} hồ sơ đang giải quyết đã quá "
        "hạn vào ngày {end}.",
        "{late} dossiers were resolved late in the period; {pending_late} pending dossiers were "
        "past their deadline on {end}.",
    ),
    "attention.no_late": (
        "Không có hồ sơ quá hạn trong kỳ và không có hồ sơ đang giải quyết quá hạn.",
        "No dossier was resolved late in the period and none pending is past its deadline.",
    ),
    "attention.overdue": (
        "Hồ sơ đang giải quyết quá hạn: {bands}; lâu nhất {longest} ngày.",
        "Pending past the deadline: {bands}; the longest {longest} days.",
    ),
    "attention.band.upto_7": ("{count} hồ sơ quá hạn đến 7 ngày", "{count} up to 7 days"),
    "attention.band.8_to_30": ("{count} hồ sơ quá hạn 8–30 ngày", "{count} 8–30 days"),
    "attention.band.over_30": ("{count} hồ sơ quá hạn trên 30 ngày", "{count} over 30 days"),
    "attention.below_target": (
        "{kinds} chưa đạt mục tiêu tỷ lệ đúng hạn ({target}): {names}.",
        "{kinds} below the within-deadline target ({target}): {names}.",
    ),
    "attention.all_above_target": (
        "Tất cả {kinds_lower} đều đạt mục tiêu tỷ lệ đúng hạn ({target}).",
        "Every one of the {kinds_lower} meets the within-deadline target ({target}).",
    ),
    "attention.name_rate": ("{name} ({rate})", "{name} ({rate})"),
    "attention.table.source": ("Nơi có nhiều hồ sơ quá hạn nhất", "Where most late dossiers are"),
    "attention.table.field": (
        "Lĩnh vực có nhiều hồ sơ quá hạn nhất",
        "Fields with most late dossiers",
    ),
    "attention.table.procedure": (
        "Thủ tục có nhiều hồ sơ quá hạn nhất",
        "Procedures with most late dossiers",
    ),
    "attention.column.source": ("Nơi tiếp nhận", "Received by"),
    "attention.column.procedure": ("Thủ tục", "Procedure"),
    "attention.column.late": ("Đã giải quyết quá hạn", "Resolved late"),
    "attention.column.late_rate": ("Tỷ lệ giải quyết quá hạn", "Late rate"),
    "attention.column.pending_late": ("Đang giải quyết quá hạn", "Pending, overdue"),
    "attention.others.source": ("{count} nơi khác", "{count} others"),
    "attention.others.field": ("{count} lĩnh vực khác", "{count} other fields"),
    "attention.others.procedure": ("{count} thủ tục khác", "{count} other procedures"),
    "attention.total": ("Tổng cộng", "Total"),
    "attention.offices.district": ("Các cơ quan cấp huyện", "District offices"),
    "attention.offices.former": ("Các cơ quan cấp huyện (cũ)", "Former district offices"),
    "attention.offices.province": ("Các cơ quan cấp tỉnh", "Provincial offices"),
    "attention.unknown": ("Không ghi", "Not recorded"),
    "attention.sort_note": (
        "Xếp từ nơi có nhiều hồ sơ quá hạn nhất (đã giải quyết quá hạn cộng đang giải quyết quá "
        "hạn); tỷ lệ giải quyết quá hạn tính trên số hồ sơ đã giải quyết.",
        "Worst first (resolved late plus pending overdue); the late rate is of the dossiers "
        "resolved.",
    ),
    "attention.procedures_in_units": (
        "Chi tiết theo thủ tục có trong báo cáo của từng đơn vị.",
        "Each unit's report lists its procedures.",
    ),
    "attention.kinds.district": ("Các đơn vị cấp huyện", "Districts"),
    "attention.kinds.commune": ("Các xã, phường, đặc khu", "Communes and wards"),
    "attention.kinds.former": ("Địa bàn các huyện cũ", "Former districts' areas"),
    "attention.communes.pre_2025": ("Các xã, phường, thị trấn", "Communes"),
    "attention.communes.2025": ("Các xã, phường, đặc khu", "Communes and wards"),
}


def check_lang(lang: str) -> str:
    """The language itself, or ValueError when the reports do not speak it."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {lang!r}")
    return lang


def has_phrase(key: str) -> bool:
    return key in PHRASES


def peer_phrase(key: str, level: str, lang: str = "vi", **values: Any) -> str:
    """``phrase(key)`` said of the units compared: its ``.commune`` variant for communes."""
    variant = f"{key}.{level}"
    return phrase(variant if level != "district" and has_phrase(variant) else key, lang, **values)


def unit_kind(unit_type: str, lang: str = "vi") -> str:
    """A unit's type word in the reader's words ("xã", "phường", "đặc khu")."""
    from_type = "unit_kind." + "-".join(text.words(unit_type).split())  # "Đặc khu": dac-khu
    return phrase(from_type, lang) if has_phrase(from_type) else unit_type.lower()


# A unit's name starts with its type word ("Huyện Kiến Thụy"); inside a sentence the type
# word is written in lower case ("huyện Kiến Thụy"), as administrative texts do.
_TYPE_WORDS = (
    "Thành phố",
    "Thị xã",
    "Thị trấn",
    "Đặc khu",
    "Huyện",
    "Quận",
    "Xã",
    "Phường",
    "Tỉnh",
)


def name_in_sentence(name: str) -> str:
    """``name`` as written inside a Vietnamese sentence: "huyện Kiến Thụy", "thành phố Hải
    Phòng"; a name without a type word is unchanged."""
    for word in _TYPE_WORDS:
        if name.startswith(word + " "):
            return word.lower() + name[len(word) :]
    return name


def phrase(key: str, lang: str = "vi", **values: Any) -> str:
    """The phrase ``key`` in ``lang`` with its ``{placeholders}`` filled from ``values``."""
    vi, en = PHRASES[key]
    template = vi if check_lang(lang) == "vi" else en
    return template.format(**values) if values else template
