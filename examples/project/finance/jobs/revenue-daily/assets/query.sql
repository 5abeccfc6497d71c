select product_line, sum(amount) as revenue
from `acme-dw.billing.invoices`
where day = '{{ .DSTART | Date }}'
group by 1
