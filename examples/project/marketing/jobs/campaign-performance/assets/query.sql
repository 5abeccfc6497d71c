select campaign_id, date(event_ts) as day, sum(spend) as spend, count(*) as clicks
from `acme-dw.raw.ad_clicks`
where event_ts >= '{{ .DSTART }}' and event_ts < '{{ .DEND }}'
group by 1, 2
