-- Customers by status: how many, how healthy, how valuable, how likely to still be active.
with customers as (
    select
        customer_status,
        customer_health_score,
        total_spent,
        p_alive,
        recency_days
    from customer_360
),

final as (
    select
        customer_status,
        count(*) as customers,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share,
        round(avg(customer_health_score), 2) as avg_health_score,
        round(avg(total_spent), 2) as avg_total_spent,
        round(sum(total_spent), 2) as total_spent,
        round(avg(p_alive), 4) as avg_p_alive,
        round(avg(recency_days), 1) as avg_recency_days
    from customers
    group by customer_status
)

select * from final
order by customers desc, customer_status
