-- Profitability by customer segment: revenue, gross margin, service cost, net contribution.
with customers as (
    select
        customer_segment as segment_value,
        total_spent,
        gross_margin,
        service_cost,
        net_contribution
    from customer_360
),

final as (
    select
        coalesce(segment_value, 'Unknown') as customer_segment,
        count(*) as customers,
        round(sum(total_spent), 2) as revenue,
        round(sum(gross_margin), 2) as gross_margin,
        round(sum(gross_margin) / nullif(sum(total_spent), 0), 4) as gross_margin_pct,
        round(sum(service_cost), 2) as service_cost,
        round(sum(net_contribution), 2) as net_contribution,
        round(avg(net_contribution), 2) as avg_net_contribution,
        sum(case when net_contribution < 0 then 1 else 0 end) as unprofitable_customers
    from customers
    group by segment_value
)

select * from final
order by net_contribution desc, customer_segment
