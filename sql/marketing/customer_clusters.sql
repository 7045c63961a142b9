-- Behavioural clusters: size, recency, frequency and value of each (customers without a
-- purchase have no cluster and are shown as 'No Purchases'). Grouped by the columns
-- themselves, labelled after grouping (as customer_segmentation.sql, for DuckDB's encoding).
with customers as (
    select
        cluster_id,
        cluster_label as label_value,
        recency_days,
        orders,
        total_spent,
        customer_health_score,
        predicted_clv_12m
    from customer_360
),

final as (
    select
        cluster_id,
        coalesce(label_value, 'No Purchases') as cluster_label,
        count(*) as customers,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share,
        round(avg(recency_days), 1) as avg_recency_days,
        round(avg(orders), 2) as avg_orders,
        round(avg(total_spent), 2) as avg_total_spent,
        round(sum(total_spent), 2) as total_revenue,
        round(avg(customer_health_score), 2) as avg_health_score,
        round(avg(predicted_clv_12m), 2) as avg_predicted_clv_12m
    from customers
    group by cluster_id, label_value
)

select * from final
order by cluster_id nulls last, cluster_label
