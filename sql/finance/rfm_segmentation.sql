-- RFM segments of the customers who bought: mean scores, recency, orders, spend, and each
-- segment's share of customers and of revenue.
with buyers as (
    select
        rfm_segment,
        r_score,
        f_score,
        m_score,
        recency_days,
        orders,
        total_spent
    from customer_360
    where rfm_segment is not null
),

final as (
    select
        rfm_segment,
        count(*) as customers,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share,
        round(avg(r_score), 2) as avg_r_score,
        round(avg(f_score), 2) as avg_f_score,
        round(avg(m_score), 2) as avg_m_score,
        round(avg(recency_days), 1) as avg_recency_days,
        round(avg(orders), 2) as avg_orders,
        round(avg(total_spent), 2) as avg_monetary,
        round(sum(total_spent), 2) as revenue,
        round(sum(total_spent) / nullif(sum(sum(total_spent)) over (), 0), 4) as revenue_share
    from buyers
    group by rfm_segment
)

select * from final
order by revenue desc, rfm_segment
