-- RFM segments: size, recency, frequency and value of each (customers without a purchase are
-- shown as 'No Purchases'). Grouped by the column itself, labelled after grouping: a group key
-- computed from it would hide its dictionary encoding from DuckDB (twice as slow at 1M rows).
with customers as (
    select
        rfm_segment as segment_value,
        recency_days,
        orders,
        total_spent,
        customer_health_score,
        predicted_clv_12m
    from customer_360
),

final as (
    select
        coalesce(segment_value, 'No Purchases') as rfm_segment,
        count(*) as customers,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share,
        round(avg(recency_days), 1) as avg_recency_days,
        round(avg(orders), 2) as avg_orders,
        round(avg(total_spent), 2) as avg_total_spent,
        round(sum(total_spent), 2) as total_revenue,
        round(avg(customer_health_score), 2) as avg_health_score,
        round(avg(predicted_clv_12m), 2) as avg_predicted_clv_12m
    from customers
    group by segment_value
)

select * from final
order by total_revenue desc, rfm_segment
