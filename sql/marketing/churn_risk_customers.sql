-- Customers at high or medium churn risk whose lifetime spend is at least $min_lifetime_value,
-- most valuable first: the retention list.
with customers as (
    select
        customer_id,
        customer_name,
        customer_segment,
        loyalty_tier,
        total_spent,
        risk_status,
        customer_health_score,
        customer_status,
        recency_days,
        p_alive,
        predicted_clv_12m
    from customer_360
),

final as (
    select *
    from customers
    where
        risk_status in ('High Risk', 'Medium Risk')
        and total_spent >= $min_lifetime_value
)

select * from final
order by total_spent desc, customer_id
