-- Daily return on ad spend: revenue (our revenue-daily job) over spend (marketing's
-- campaign-performance job). Neither is listed under dependencies: the deploy reads them here.
with spend as (
  select sum(spend) as spend
  from `acme-dw.marketing.campaign_performance`
  where day = '{{ .DSTART | Date }}'
)
select '{{ .DSTART | Date }}' as day, sum(r.revenue) / nullif(any_value(s.spend), 0) as roas
from `acme-dw.finance.revenue_daily` r
cross join spend s
